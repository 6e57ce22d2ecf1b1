/**
 * What the jobs endpoint function reads from its environment besides the producer's own variables
 * (`./producer-config`, set by the same grant that lets it send): where its bearer tokens are kept.
 */
import { z } from 'zod/mini';

/** The function's entry, by its source path in hookline (the stack and local mode bundle it). */
export const JOBS_ENDPOINT_ENTRY = 'lambda/jobs-endpoint/handler.ts';

export const JOBS_ENDPOINT_CONFIG_ENV = 'HOOKLINE_JOBS_ENDPOINT';

export const jobsEndpointRuntimeSchema = z.object({
  /** A Secrets Manager id, or `env:NAME` in local mode; a plain token or `{"secrets":["new","old"]}`. */
  tokenSecretId: z.string().check(z.minLength(1)),
  secretCacheSeconds: z.number().check(z.nonnegative()),
});
export type JobsEndpointRuntimeConfig = z.infer<typeof jobsEndpointRuntimeSchema>;

/** The environment variable local mode reads the jobs endpoint's token from. */
export const LOCAL_JOBS_TOKEN_ENV = 'HOOKLINE_JOBS_TOKEN';
