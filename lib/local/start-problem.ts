/**
 * A reason local mode cannot start that its message fully explains (what, where, and the fix): `npm start`
 * prints the message alone, without a stack trace.
 */
export class LocalStartProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStartProblem';
  }
}
