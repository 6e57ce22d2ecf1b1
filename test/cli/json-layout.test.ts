import { describe, expect, it } from 'vitest';
import { layoutJson } from '../../lib/cli/json-layout';

describe('layoutJson', () => {
  it('keeps punctuation and escaped quotes inside strings as they are', () => {
    expect(layoutJson('{"a,b":"{[:]} \\" ,","c" : [ 1 , "x\\\\" ]}')).toBe(
      '{\n  "a,b": "{[:]} \\" ,",\n  "c": [\n    1,\n    "x\\\\"\n  ]\n}',
    );
  });

  it('writes empty objects and arrays on one line, even with whitespace inside', () => {
    expect(layoutJson('{"a":{ },"b":[\n]}')).toBe('{\n  "a": {},\n  "b": []\n}');
  });

  it('gives a scalar document as written', () => {
    expect(layoutJson(' 12345678901234567890 ')).toBe('12345678901234567890');
    expect(layoutJson('"\\u2028"')).toBe('"\\u2028"');
  });

  it('gives undefined for text that is not JSON, so the caller shows it as it is', () => {
    expect(layoutJson('a=1&b=2')).toBeUndefined();
    expect(layoutJson('{"a":')).toBeUndefined();
    expect(layoutJson('')).toBeUndefined();
  });
});
