/**
 * What the stack (and local mode) hand the forwarding consumer through HOOKLINE_FORWARD_CONFIG: where it posts each
 * event, how long one attempt may take, and where its signing secret is (never the secret itself).
 */
// zod/mini, as the consumer's own configuration: the bundler keeps only the parts used.
import * as z from 'zod/mini';

export const FORWARD_CONFIG_ENV = 'HOOKLINE_FORWARD_CONFIG';

/** Stands for a destination URL's query where a line would quote it: the query may hold a token. */
export const QUERY_SHOWN = '<query>';

/** A destination URL as a start or status line shows it: everything but its query's text. */
export function urlWithQueryHidden(url: string): string {
  const query = url.indexOf('?');
  if (query === -1 || query === url.length - 1) return url;
  return `${url.slice(0, query)}?${QUERY_SHOWN}`;
}

/** The forwarding consumer's function entry, built by the stack and local mode from hookline's own files. */
export const FORWARD_ENTRY = 'lambda/forward/handler.ts';

export const forwardRuntimeSchema = z.object({
  /** The destination: `https://` when deployed; local mode may post to a loopback `http://` one. */
  url: z.string().check(z.minLength(1)),
  /** One HTTP attempt's limit, after which it is aborted and retried. */
  timeoutMs: z.int().check(z.positive()),
  /** The Standard Webhooks signing secret: a Secrets Manager id, or `env:NAME` (local mode). */
  secretId: z.string().check(z.minLength(1)),
  /** How long a loaded secret is used before it is read again (a rotated secret is picked up within it). */
  secretCacheSeconds: z.number().check(z.nonnegative()),
});
export type ForwardRuntimeConfig = z.infer<typeof forwardRuntimeSchema>;
