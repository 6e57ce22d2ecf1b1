/**
 * A consumer whose state the console's AWS identity may not read, on the Actions page: the real page (the built
 * bundle) in Debian's headless Chromium, served by the real console server for a deployed stack whose AWS calls are
 * mocked (local mode's emulators refuse nothing).
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetEventSourceMappingCommand,
  LambdaServiceException,
  ListTagsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import type { ConsoleServer } from '../../lib/console/server';
import { mockCommandClients, stackTarget, testBackend } from '../cli/helpers';
import { type ConsoleInChromium, consoleServerInChromium } from '../helpers/console-browser';

const clients = mockCommandClients();

let server: ConsoleServer;
let page: Page;
let shown: ConsoleInChromium<{ server: ConsoleServer }> | undefined;

/** Lambda's refusal of the mapping's read, as the SDK builds it. */
const readDenied = () =>
  new LambdaServiceException({
    name: 'AccessDeniedException',
    message:
      'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: lambda:GetEventSourceMapping on resource: arn:aws:lambda:us-east-1:123456789012:event-source-mapping:esm-events-uuid because no identity-based policy allows the lambda:GetEventSourceMapping action',
    $fault: 'client',
    $metadata: { httpStatusCode: 403, requestId: 'req-1', attempts: 1 },
  });

// The clients' mocks are reset before each test (mockCommandClients): the stack's state is set again.
beforeEach(() => {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  clients.lambda.on(GetEventSourceMappingCommand).rejects(readDenied());
  clients.lambda.on(ListTagsCommand).resolves({ Tags: {} });
  clients.lambda.on(UpdateEventSourceMappingCommand).resolves({ State: 'Disabling' });
});

beforeAll(async () => {
  const operations = new ConsoleOperations({
    backend: testBackend(),
    target: stackTarget(),
    config: resolveConfig(exampleConfig),
    feed: unavailableFeed('no feed for a deployed stack'),
  });
  shown = consoleServerInChromium(operations);
  ({ server, page } = await shown.started);
}, 180_000);

afterAll(() => shown?.close());

describe('a consumer whose state may not be read, on the Actions page', () => {
  it('says so with the permission the read needs, and still offers Pause and Resume, which act', async () => {
    await page.goto(`${server.url}#/actions`);
    const row = page.locator('#consumers tr[data-queue="events"]');
    await expect
      .poll(() => row.locator('[data-col="consumer"]').textContent())
      .toBe('unknown: access denied (needs lambda:GetEventSourceMapping)');
    expect(await row.getByRole('button', { name: 'Pause' }).isEnabled()).toBe(true);
    expect(await row.getByRole('button', { name: 'Resume' }).isEnabled()).toBe(true);

    await row.getByRole('button', { name: 'Pause' }).click();

    await expect
      .poll(() => clients.lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input))
      .toEqual([{ UUID: 'esm-events-uuid', Enabled: false }]);
  });
});
