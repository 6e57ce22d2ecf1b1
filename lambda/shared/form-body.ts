/**
 * Form-encoded bodies (`application/x-www-form-urlencoded`), as the ingest's grouping paths and a consumer's
 * `payload` read them. Its own module, not the senders' kit, so a consumer bundle holds none of the sender registry.
 */

/** True for a (lower-case) content type of a form post. */
export const isForm = (contentType: string) => contentType.includes('application/x-www-form-urlencoded');

/**
 * A form body's fields, name to value, as a consumer's `payload` and a grouping path read them: for a repeated
 * name the last value wins (one value per name, so a path names one group).
 */
export const formFields = (text: string): Record<string, string> =>
  Object.fromEntries(new URLSearchParams(text));
