import { describe, expect, it } from 'vitest';
import { type DeadLetter, type DeadLetterSummary, summarize } from '../../lib/cli/dead-letters';
import { FailureGroups, failureKey, failurePattern, maskedMessage } from '../../lib/cli/failure-groups';

const NO_REASON = 'no reason recorded';

/** A dead letter as `failed list` summarizes it, the shape the groups read. */
function letter(
  n: number,
  failure: DeadLetter['failure'],
  options: { type?: string; id?: string | null; sentAt?: string } = {},
): DeadLetterSummary {
  return summarize({
    messageId: `sqs-${n}`,
    receiptHandle: `rh-${n}`,
    body: '{}',
    event: {
      ...(options.id === null ? {} : { id: options.id ?? `evt-${n}` }),
      source: 'stripe',
      type: options.type ?? 'invoice.paid',
    },
    failure,
    ...(options.sentAt ? { sentAt: options.sentAt } : {}),
    messageAttributes: {},
  });
}

describe('maskedMessage: what varies per event is masked, what names the bug stays', () => {
  it.each([
    ['customer cus_1 not found', 'customer <id> not found'],
    ['order 42 (ord-9Xk) not found at 2026-11-25T02:10:00.000Z', 'order <n> (<id>) not found at <time>'],
    [
      'job 3f2b8a1e-1111-4a2b-9c3d-0123456789ab timed out after 30000 ms',
      'job <uuid> timed out after <n> ms',
    ],
    ['payload s3://bucket/payloads/abc123def4567890 is gone', 'payload s3://bucket/payloads/<hex> is gone'],
    ['webhook-id msg_2Lq9ZxYqX not found', 'webhook-id <id> not found'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED <n>.<n>:<n>'],
    // A database writes its times with a space, not a T: one time all the same.
    ['lock held since 2026-11-25 02:10:00+01:00', 'lock held since <time>'],
    // Twelve hex digits are the shortest run masked as hex, eight characters the shortest id without `_` or `-`.
    ['trace 0123456789ab lost', 'trace <hex> lost'],
    ['lease a1b2c3d4 expired', 'lease <id> expired'],
  ])('%s → %s', (message, masked) => {
    expect(maskedMessage(message)).toBe(masked);
  });

  it('keeps an HTTP status, a quoted name and short words with digits, which tell failures apart', () => {
    expect(maskedMessage('Request failed with status code 503')).toBe('Request failed with status code 503');
    expect(maskedMessage('HTTP 404 from /v2/orders/12345')).toBe('HTTP 404 from /v2/orders/<n>');
    expect(maskedMessage("Cannot read properties of undefined (reading 'email')")).toBe(
      "Cannot read properties of undefined (reading 'email')",
    );
    expect(maskedMessage('OAuth2 token for s3 expired (utf8)')).toBe('OAuth2 token for s3 expired (utf8)');
  });

  it('reads a message over several lines as one, and cuts a long one', () => {
    expect(maskedMessage('first line\n   second line')).toBe('first line second line');
    const long = maskedMessage(`failed: ${'x'.repeat(500)}`);
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
    // At the limit, a message is whole: only a longer one is cut.
    expect(maskedMessage('y'.repeat(200))).toBe('y'.repeat(200));
    expect(maskedMessage('y'.repeat(201))).toBe(`${'y'.repeat(199)}…`);
  });
});

describe('failurePattern', () => {
  it('joins the error name and the masked message; a reason without either keeps the part it has', () => {
    expect(
      failurePattern(
        letter(1, { errorName: 'PermanentError', errorMessage: 'customer cus_1 gone' }),
        NO_REASON,
      ),
    ).toBe('PermanentError: customer <id> gone');
    expect(failurePattern(letter(1, { errorName: 'Timeout' }), NO_REASON)).toBe('Timeout');
    expect(failurePattern(letter(1, { errorMessage: 'order 7 failed' }), NO_REASON)).toBe('order <n> failed');
    expect(failurePattern(letter(1, {}), NO_REASON)).toBe(NO_REASON);
  });
});

describe('failureKey', () => {
  it('is the same short name for the same failure on every read, and another for another failure', () => {
    expect(failureKey('PermanentError: customer <id> not found')).toBe('0a78ca1c');
    expect(failureKey('PermanentError: customer <id> gone')).toMatch(/^[0-9a-f]{8}$/);
    expect(failureKey('PermanentError: customer <id> gone')).not.toBe('0a78ca1c');
  });
});

describe('FailureGroups', () => {
  it('counts each letter once into its failure, largest group first, with types, times and example ids', () => {
    const groups = new FailureGroups(NO_REASON);
    for (let n = 0; n < 7; n++) {
      groups.add(
        letter(
          n,
          {
            errorName: 'PermanentError',
            errorMessage: `customer cus_${n} not found`,
            failedAt: `2026-11-25T02:0${n}:00.000Z`,
          },
          { type: n < 5 ? 'invoice.paid' : 'charge.failed' },
        ),
      );
    }
    groups.add(
      letter(
        7,
        { errorName: 'TypeError', errorMessage: "reading 'email'" },
        { id: null, sentAt: '2026-11-24T00:00:00.000Z' },
      ),
    );
    groups.add(letter(8, {}, { sentAt: '2026-11-23T00:00:00.000Z' }));

    expect(groups.letters).toBe(9);
    const result = groups.result();
    expect(result.map((g) => [g.pattern, g.count])).toEqual([
      ['PermanentError: customer <id> not found', 7],
      ["TypeError: reading 'email'", 1],
      [NO_REASON, 1],
    ]);
    expect(result[0]).toMatchObject({
      key: '0a78ca1c',
      example: 'PermanentError: customer cus_0 not found',
      exampleIds: ['evt-0', 'evt-1', 'evt-2', 'evt-3', 'evt-4'],
      types: [
        { type: 'invoice.paid', count: 5 },
        { type: 'charge.failed', count: 2 },
      ],
      otherTypes: 0,
      firstFailedAt: '2026-11-25T02:00:00.000Z',
      lastFailedAt: '2026-11-25T02:06:00.000Z',
    });
    // No envelope id: the SQS message id names it; no failure time: when it was sent.
    expect(result[1]).toMatchObject({ exampleIds: ['sqs-7'], firstFailedAt: '2026-11-24T00:00:00.000Z' });
  });

  it('names the three most frequent types and counts the others', () => {
    const groups = new FailureGroups(NO_REASON);
    const types = ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'd', 'e'];
    for (const [n, type] of types.entries()) groups.add(letter(n, { errorName: 'E' }, { type }));
    const [group] = groups.result();
    expect(group?.types).toEqual([
      { type: 'a', count: 3 },
      { type: 'b', count: 2 },
      { type: 'c', count: 2 },
    ]);
    expect(group?.otherTypes).toBe(2);
  });

  it('counts the letters of the types it does not name, however few types they are', () => {
    const groups = new FailureGroups(NO_REASON);
    const types = ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'd', 'e'];
    for (const [n, type] of types.entries()) groups.add(letter(n, { errorName: 'E' }, { type }));
    const [group] = groups.result();
    expect(group?.types.map((t) => t.type)).toEqual(['a', 'd', 'b']);
    // c (2 letters) and e (1): three letters of two other types.
    expect(group?.otherTypes).toBe(3);
  });

  it("takes a reason with a message and no error name as the group's example, in full", () => {
    const groups = new FailureGroups(NO_REASON);
    groups.add(letter(1, { errorMessage: 'order 7 failed' }));
    groups.add(letter(2, { errorMessage: 'order 8 failed' }));
    expect(groups.result()).toMatchObject([
      { pattern: 'order <n> failed', count: 2, example: 'order 7 failed' },
    ]);
  });

  it('counts a letter whose body names no type under (no type)', () => {
    const groups = new FailureGroups(NO_REASON);
    groups.add({
      messageId: 'sqs-1',
      id: null,
      type: null,
      sentAt: null,
      failure: { errorName: 'SyntaxError' },
    });
    expect(groups.result()).toMatchObject([
      { exampleIds: ['sqs-1'], types: [{ type: '(no type)', count: 1 }] },
    ]);
  });

  it("counts what Scheduler's deliveries concern in each group, and says nothing of it for letters that have none", () => {
    const groups = new FailureGroups(NO_REASON);
    const denied = { errorName: 'AccessDeniedException', errorMessage: 'not authorized' };
    const probe = (n: number, queue: string) => ({
      ...letter(n, denied, { id: null }),
      subject: `circuit breaker probe of the ${queue} queue`,
    });
    for (const [n, queue] of [
      [1, 'events'],
      [2, 'orders'],
      [3, 'events'],
    ] as const)
      groups.add(probe(n, queue));
    groups.add(letter(4, { errorName: 'PermanentError' }));
    const [scheduled, own] = groups.result();
    expect(scheduled?.subjects).toEqual([
      { subject: 'circuit breaker probe of the events queue', count: 2 },
      { subject: 'circuit breaker probe of the orders queue', count: 1 },
    ]);
    expect(own).not.toHaveProperty('subjects');
  });

  it('an empty queue has no group', () => {
    expect(new FailureGroups(NO_REASON).result()).toEqual([]);
  });
});
