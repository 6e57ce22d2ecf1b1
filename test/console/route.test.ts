import { describe, expect, it } from 'vitest';
import { routeOf } from '../../lib/console/ui/route';

describe("the console page's route", () => {
  it('reads the page and its percent-encoded argument from the hash, as the page links encode them', () => {
    expect(routeOf('#/event/a%2Fb%20c')).toEqual(['event', 'a/b c']);
    expect(routeOf('#/failures')).toEqual(['failures']);
    expect(routeOf('')).toEqual(['']);
  });

  it('reads an address typed without the slash after the hash as the same page', () => {
    expect(routeOf('#failures')).toEqual(['failures']);
    expect(routeOf('#event/abc')).toEqual(['event', 'abc']);
  });

  it('keeps a part that is not valid percent-encoding as written instead of failing the whole page', () => {
    expect(routeOf('#/event/100%')).toEqual(['event', '100%']);
    expect(routeOf('#/job/%E0%A4%A')).toEqual(['job', '%E0%A4%A']);
  });
});
