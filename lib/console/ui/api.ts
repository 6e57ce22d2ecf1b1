/**
 * The page's calls to the console API. Every call sends the run's token in the header the server requires for
 * changes (the cookie alone never authorises one).
 */
import { useEffect, useState } from 'preact/hooks';
import { routeOf } from './route';

const token = document.querySelector('meta[name="hookline-token"]')?.getAttribute('content') ?? '';

/** The command that starts this console again, with the target flags it was started with (the server's `nextCommand`). */
const restart = document.querySelector('meta[name="hookline-console-command"]')?.getAttribute('content');

/** What the browser's bare "Failed to fetch" means here: the console process is not answering. */
const NOT_ANSWERING = `the console is not answering: it was stopped (or started again, with a new URL): ${restart ? `run ${restart} again` : 'start it again'} and open the URL it prints`;

/** What the server answered, when it refused or failed: a 503 is the backend's state, which a read waits out. */
class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** How often a read the page makes once reads again while the backend cannot answer it (503). */
const UNAVAILABLE_RETRY_MS = 2000;

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  const json = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new ApiError(json.error ?? `HTTP ${response.status}`, response.status);
  return json;
}

async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  try {
    return await request(method, path, body);
  } catch {
    throw new Error(NOT_ANSWERING);
  }
}

function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method,
    headers: {
      'x-hookline-token': token,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    credentials: 'same-origin',
  });
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => call<T>('POST', path, body);

/**
 * Polls `path` every `intervalMs` while mounted (0: once, and again on `reload()`); a `null` path pauses.
 * Reads that hold dead letters (failures, event page) load once: polling them would hide messages from a redrive.
 * Such a read that the backend could not answer (local mode stopped, AWS unreachable: a 503) is made again until it
 * is answered, so the page recovers by itself once the backend is back.
 */
export function usePoll<T>(path: string | null, intervalMs: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** When `data` was read: once a later read fails, what is shown is as of then (see StaleNote). */
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const value = await get<T>(path);
        if (!stopped) {
          setData(value);
          setUpdatedAt(new Date());
          setError(null);
        }
      } catch (e) {
        if (stopped) return;
        setError((e as Error).message);
        if (intervalMs === 0 && e instanceof ApiError && e.status === 503) {
          retry = setTimeout(tick, UNAVAILABLE_RETRY_MS);
        }
      }
    };
    void tick();
    const timer = intervalMs > 0 ? setInterval(tick, intervalMs) : undefined;
    return () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
    };
  }, [path, intervalMs, round]);
  return { data, error, updatedAt, reload: () => setRound((r) => r + 1) };
}

/** The part of the address after `#/`, split: `#/event/abc` -> ['event', 'abc'] ({@link routeOf}). */
export function useRoute(): string[] {
  const read = () => routeOf(location.hash);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
