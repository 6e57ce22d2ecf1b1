/**
 * The stable `code` of every error the producer throws (`hookline/producer`): one place for the codes and what each
 * means, so a caller can switch on `error.code` rather than match messages, which may change wording.
 */
export const PRODUCER_ERROR_CODES = {
  /** An option, argument or flow the caller must fix (a misspelt unit, a FIFO delay, a job argument that is no job). */
  INVALID_OPTION: 'an option, argument or flow the caller must fix',
  /** The job's queue is not one this producer can send to. */
  UNKNOWN_QUEUE: 'the job names a queue this producer cannot send to',
  /** What the producer was given (its grant, explicit queues and settings, or local mode) lacks what the call needs: queues, the dedupe table, delays, flows. */
  NOT_GRANTED: 'the producer was not given what the call needs (queues, the dedupe table, delays or flows)',
  /** The payload does not fit the job's schema, or fits it only before JSON changes it. */
  PAYLOAD_INVALID: "the payload does not fit the job's schema as its consumer receives it",
  /** JSON cannot write the payload (a BigInt, a cycle, nothing at all, or nesting too deep). */
  PAYLOAD_NOT_JSON: 'JSON cannot write the payload',
  /** The job is too large for a message and there is no payload bucket to hold it. */
  JOB_TOO_LARGE: 'the job is too large for a message, with no payload bucket',
  /** This process has no AWS credentials: nothing was sent, or read. */
  NO_CREDENTIALS: 'this process has no AWS credentials',
  /** This process has no AWS region: nothing was sent, or read. */
  NO_REGION: 'this process has no AWS region',
  /** AWS refused this process's credentials as expired (an SSO session, an assumed role's): sign in again. */
  CREDENTIALS_EXPIRED: "this process's AWS credentials expired",
  /** AWS rejected this process's credentials (unknown, deactivated, or a secret that does not match them). */
  CREDENTIALS_REJECTED: "AWS rejected this process's credentials",
  /** The job could not be enqueued after every retry (SQS, the dedupe table, the payload bucket or Scheduler failed). */
  NOT_ENQUEUED: 'the job could not be enqueued after every retry',
  /** `status`, `cancel` or `waitFor` could not read or change the job's record in the dedupe table. */
  RECORDS_UNAVAILABLE: "the job's record could not be read or changed",
  /** `waitFor` gave up: the job had not finished when its timeout passed. */
  WAIT_TIMEOUT: 'the job had not finished when the wait timed out',
  /** The job has no record: never sent, sent without the dedupe table, or expired. */
  JOB_NOT_FOUND: 'the job has no record',
} as const;

/** A stable code of a producer error: switch on it (`error.code === 'UNKNOWN_QUEUE'`). */
export type ProducerErrorCode = keyof typeof PRODUCER_ERROR_CODES;
