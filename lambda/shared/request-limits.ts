/**
 * How large a webhook can be on its way through API Gateway (HTTP API) to the ingest function: the one home of
 * these numbers, read by the ingest function, by local mode's emulated API and by the documentation.
 *
 * - HTTP API refuses a payload above 10 MB itself (quota "Payload size", not adjustable).
 * - Lambda refuses a synchronous invocation whose request, the whole JSON event, exceeds 6,291,456 bytes
 *   (`RequestEntityTooLargeException: Request must be smaller than 6291456 bytes for the InvokeFunction
 *   operation`); HTTP API then answers `413 {"message":"Request Entity Too Large"}` without running the
 *   function (the behaviour AWS's own emulator, aws-lambda-dotnet's Lambda Test Tool, reproduces).
 * - The body travels inside that event: as a JSON string for text content types (quotes and backslashes
 *   escaped, control characters as six-byte `\u` escapes), base64-encoded (4/3 larger) for everything else.
 *   So the largest body that reaches the function depends on its encoding and, for text, on its content: the
 *   ingest's limit is one every binary body, and a text body that grows by at most a third when escaped (typical
 *   JSON grows 10-20 %), reaches the function under.
 */

/** API Gateway HTTP API's payload quota: above it the API answers 413 before any integration runs. */
export const HTTP_API_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** Lambda's limit for a synchronous invocation request (the serialized event), in bytes. */
export const LAMBDA_SYNC_REQUEST_MAX_BYTES = 6 * 1024 * 1024;

/**
 * Room kept in the event for everything but the body: HTTP API caps the request line and headers at 10,240
 * bytes, and the event carries the headers once and the path and query up to three times (`rawPath`,
 * `rawQueryString`/`queryStringParameters`, `requestContext.http.path`), plus `requestContext`.
 */
export const EVENT_RESERVE_BYTES = 32 * 1024;

/**
 * The largest webhook body hookline accepts, in bytes (4,694,016): a body of this size still fits in the
 * event when HTTP API base64-encodes it. Larger bodies are answered 413 by the ingest function while the event
 * still reaches it (text bodies up to ~6 MB) and by API Gateway/Lambda beyond that.
 */
export const MAX_WEBHOOK_BODY_BYTES = Math.floor(
  ((LAMBDA_SYNC_REQUEST_MAX_BYTES - EVENT_RESERVE_BYTES) * 3) / 4,
);
