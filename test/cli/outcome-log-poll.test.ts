/**
 * What the outcome-line poller of `tail` and the console asks CloudWatch Logs, and which of its failures pass (polled
 * again, the time read again) rather than end the tail.
 */
import { describe, expect, it } from 'vitest';
import { isPassingPollFailure, outcomeLinesPattern } from '../../lib/cli/outcome-log-poll';
import { OUTCOME_LINE_MESSAGES } from '../../lib/cli/trace';
import { awsError } from './helpers';

const answered = (name: string, status: number) =>
  Object.assign(awsError(name), { $metadata: { httpStatusCode: status } });

describe('outcome line polling', () => {
  it('asks for the lines whose message is any one of the outcome messages, in the JSON filter syntax', () => {
    // JSON filter patterns: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html
    expect(outcomeLinesPattern()).toBe(
      `{ ${OUTCOME_LINE_MESSAGES.map((message) => `($.message = "${message}")`).join(' || ')} }`,
    );
    expect(OUTCOME_LINE_MESSAGES.length).toBeGreaterThan(1);
  });

  it('lets a throttled poll, AWS’s own fault and no answer pass, and no other failure', () => {
    expect(isPassingPollFailure(answered('ThrottlingException', 400))).toBe(true);
    expect(isPassingPollFailure(answered('TooManyRequests', 429))).toBe(true);
    expect(isPassingPollFailure(answered('InternalFailure', 500))).toBe(true);
    expect(isPassingPollFailure(answered('ServiceUnavailableException', 503))).toBe(true);
    expect(isPassingPollFailure(awsError('TimeoutError'))).toBe(true);
    expect(isPassingPollFailure(Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );

    expect(isPassingPollFailure(answered('ResourceNotFoundException', 400))).toBe(false);
    expect(isPassingPollFailure(answered('AccessDeniedException', 400))).toBe(false);
    expect(isPassingPollFailure(answered('InvalidParameterException', 499))).toBe(false);
    expect(isPassingPollFailure(new Error('no status'))).toBe(false);
  });
});
