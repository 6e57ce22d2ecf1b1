import 'aws-sdk-client-mock-vitest/extend';
import { chai } from 'vitest';

/**
 * `toThrow('text')` and `toThrow(/re/)` pass when the code throws (or a promise rejects with) `undefined` or
 * `null`: vitest hands strings and patterns to chai, which checks nothing without an error. So an assertion
 * naming the expected message could not fail on code that throws nothing useful; this makes it fail.
 */
chai.use((api, utils) => {
  for (const name of ['toThrow', 'toThrowError']) {
    utils.overwriteMethod(
      api.Assertion.prototype,
      name,
      (original: (...args: unknown[]) => unknown) =>
        function (this: object, ...args: unknown[]) {
          const [expected] = args;
          const names = typeof expected === 'string' || expected instanceof RegExp;
          if (!names || utils.flag(this, 'negate')) return original.apply(this, args);
          const thrown = thrownValueOf(this, utils);
          if (thrown.threw && (thrown.value === undefined || thrown.value === null)) {
            throw new chai.AssertionError(
              `expected an error matching ${String(expected)}, but ${String(thrown.value)} was thrown`,
            );
          }
          return original.apply(this, args);
        },
    );
  }
});

/**
 * What the asserted code threw: a rejection's value, or a function's throw, caught once and then replayed to the
 * original matcher, so the code under test runs once.
 */
function thrownValueOf(
  assertion: object,
  utils: Chai.ChaiUtils,
): { readonly threw: boolean; readonly value?: unknown } {
  const subject = utils.flag(assertion, 'object') as unknown;
  if (utils.flag(assertion, 'promise') === 'rejects') return { threw: true, value: subject };
  if (typeof subject !== 'function') return { threw: false };
  try {
    const result = (subject as () => unknown)();
    utils.flag(assertion, 'object', () => result);
    return { threw: false };
  } catch (error) {
    utils.flag(assertion, 'object', () => {
      throw error;
    });
    return { threw: true, value: error };
  }
}
