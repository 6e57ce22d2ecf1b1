import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // aws-cdk-lib validates every synthesized template with CloudFormation's validation engine, which takes seconds
    // to start in each test file and only prints what it finds. The maximal template's test runs it on purpose and
    // fails on any finding; CI's `cdk synth` runs it on the app.
    env: { CDK_VALIDATION: 'false' },
  },
});
