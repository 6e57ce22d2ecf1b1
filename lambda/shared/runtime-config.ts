/**
 * What the CDK stack (and local mode) hand to the functions through their environment.
 *
 * `lib/runtime-wiring.ts` builds these objects from the one typed configuration; the functions parse them
 * once at cold start. Plain JSON only: durations are in seconds, with the unit in the name.
 *
 * This module gathers the three homes for the CDK side and tests. Function code imports the one it needs
 * (`./ingest-config`, `./consumer-config`, `./read-runtime-config`), never this one: a consumer importing the
 * ingest configuration would bundle the whole sender registry.
 */
export * from './consumer-config';
export * from './ingest-config';
export * from './read-runtime-config';
