/**
 * Local mode's event journal as the console reads it, with the control API's HTTP answers faked: an answer that
 * is not a page of events is an error the overview shows, never an empty feed.
 */
import { describe, expect, it } from 'vitest';
import type { HttpFetch } from '../../lib/cli/backend';
import { feedFor, localEventFeed } from '../../lib/console/feed';
import { localTestTarget, stackTarget } from '../cli/helpers';

const controlUrl = 'http://127.0.0.1:3000/_hookline';

function answering(status: number, body: unknown): HttpFetch & { asked: string[] } {
  const asked: string[] = [];
  const http = async (url: string) => {
    asked.push(url);
    return new Response(JSON.stringify(body), { status });
  };
  return Object.assign(http, { asked });
}

describe('console event feed of local mode', () => {
  it('asks the journal for the events after the last one read, a page at a time', async () => {
    const event = { seq: 8, at: '2026-11-30T10:00:00.000Z', event: 'queued', id: 'a' };
    const http = answering(200, { events: [event], latest: 9, run: 'r1' });
    expect(await localEventFeed(controlUrl, http, 'console-1').after(7)).toEqual({
      events: [event],
      latest: 9,
      run: 'r1',
    });
    expect(http.asked).toEqual([`${controlUrl}/events?after=7&limit=1000&follower=console-1`]);
    expect(await localEventFeed(controlUrl, answering(200, {})).after(7)).toEqual({ events: [], latest: 7 });
  });

  it('fails, naming why, when local mode answers anything but a page of events', async () => {
    await expect(
      localEventFeed(controlUrl, answering(404, { message: 'not found' })).after(0),
    ).rejects.toThrow(
      'this local mode has no event journal: restart it with the current hookline (npm start or npx hookline dev)',
    );
    await expect(localEventFeed(controlUrl, answering(500, { events: [] })).after(0)).rejects.toThrow(
      'local mode answered HTTP 500 for its events',
    );
  });

  it("follows local mode's journal, and says a deployed stack has no live feed", async () => {
    const http = answering(200, { events: [], latest: 0 });
    const local = feedFor(localTestTarget(), http);
    expect(local.unavailable).toBeNull();
    await local.after(0);
    expect(http.asked).toEqual([
      expect.stringMatching(
        /^http:\/\/127\.0\.0\.1:3000\/_hookline\/events\?after=0&limit=1000&follower=[\w-]+$/,
      ),
    ]);
    const stack = feedFor(stackTarget(), http);
    expect(stack.unavailable).toMatch(/^no live event feed for a deployed stack/);
    expect(await stack.after(5)).toEqual({ events: [], latest: 5 });
  });
});
