/**
 * AWS SDK client options shared by every function.
 *
 * In AWS the defaults apply. In local mode the `AWS_ENDPOINT_URL_<SERVICE>` variables point at the loopback
 * emulators; the endpoint is passed explicitly because the SQS client otherwise sends each call to the
 * queue URL's host (`sqs.<region>.localhost`), which does not resolve.
 */

/** Bounded retries and timeouts so a failing dependency turns into a 503 well inside a sender's deadline. */
export interface ClientBudget {
  readonly maxAttempts: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** The ingest path must answer inside Slack's 3 seconds, cold start included. */
export const INGEST_BUDGET: ClientBudget = {
  maxAttempts: 2,
  connectionTimeoutMs: 500,
  requestTimeoutMs: 1_000,
};
/** Consumers have their function timeout to spend, so they retry a little more. */
export const CONSUMER_BUDGET: ClientBudget = {
  maxAttempts: 3,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
};

type Service = 'SQS' | 'S3' | 'DYNAMODB' | 'SECRETS_MANAGER' | 'FIREHOSE' | 'CLOUDWATCH_LOGS' | 'SCHEDULER';

/** A job producer runs in the caller's process (a web request, a script): a few retries, then an error. */
export const PRODUCER_BUDGET: ClientBudget = {
  maxAttempts: 3,
  connectionTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
};

/**
 * Local mode's emulators share the developer's CPU with everything else running there (a build, a test suite): a
 * slow answer from them is load, not a hung connection, and failing it would answer webhooks 503 that AWS accepts.
 * Their calls get this many times the request timeout; a hung one still fails, later.
 */
export const LOCAL_REQUEST_TIMEOUT_FACTOR = 5;

/**
 * Retries and timeouts of a budget as SDK client options: for AWS, or (`local`) for local mode's emulators, whose
 * calls get {@link LOCAL_REQUEST_TIMEOUT_FACTOR} times the request timeout.
 */
export function budgetOptions(budget: ClientBudget, where: { readonly local: boolean }) {
  return {
    maxAttempts: budget.maxAttempts,
    requestHandler: {
      connectionTimeout: budget.connectionTimeoutMs,
      requestTimeout: where.local
        ? budget.requestTimeoutMs * LOCAL_REQUEST_TIMEOUT_FACTOR
        : budget.requestTimeoutMs,
      // Without it the SDK only logs a warning when requestTimeout passes and keeps waiting: a hung (accepted,
      // never answered) connection then holds the call forever (a function until its own timeout).
      throwOnRequestTimeout: true,
    },
  };
}

/** Options for `new XClient(...)`: endpoint override (local mode), retries and timeouts. */
export function clientOptions(
  service: Service,
  budget: ClientBudget,
  env: Record<string, string | undefined> = process.env,
) {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  return {
    ...budgetOptions(budget, { local: Boolean(endpoint) }),
    ...(endpoint ? { endpoint } : {}),
    ...(endpoint && service === 'S3' ? { forcePathStyle: true } : {}),
  };
}
