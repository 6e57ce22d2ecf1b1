/** Runtime settings fields several senders share (zod/mini, so the function bundles stay small). */
import * as z from 'zod/mini';

export const secretRef = {
  /** Secrets Manager secret id (ARN or name). Local mode uses `env:HOOKLINE_SECRET_<SOURCE>` instead. */
  secretId: z.string().check(z.minLength(1)),
};

export const timestamped = {
  /** Largest accepted distance between the signed timestamp and now. Never 0; absent, the default (`verify-kit`). */
  toleranceSeconds: z.optional(z.int().check(z.positive())),
};
