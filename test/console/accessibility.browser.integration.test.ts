/**
 * The web console for a keyboard and screen-reader user, at 400 % zoom (a 320 px wide window), with the sender's
 * right-to-left text, and while AWS stops answering and comes back: the real page (the built bundle) in Debian's
 * headless Chromium, served by the real console server for a deployed stack whose AWS calls are mocked.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import exampleConfig from '../../hookline.config';
import { resolveConfig } from '../../lib/config';
import { unavailableFeed } from '../../lib/console/feed';
import { ConsoleOperations } from '../../lib/console/operations';
import type { ConsoleServer } from '../../lib/console/server';
import { installFakeQueue } from '../cli/fake-queue';
import { deadLetterMessage, EVENTS, mockCommandClients, stackTarget, testBackend } from '../cli/helpers';
import { type ConsoleInChromium, consoleServerInChromium } from '../helpers/console-browser';

const clients = mockCommandClients();
/** A failure the consumer recorded in Hebrew: the sender's (or the handler's) right-to-left text. */
const HEBREW_FAILURE = { name: 'PermanentError', message: 'הלקוח לא נמצא' };
const HEBREW_TYPE = 'שולם';

let server: ConsoleServer;
let browser: Browser;
let page: Page;
let shown: ConsoleInChromium<{ server: ConsoleServer }> | undefined;

beforeEach(() => {
  clients.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
  clients.sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
  clients.sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  // A paused consumer: the overview says so in the warning colour.
  clients.lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled' });
  clients.cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  installDeadLetters();
});

/** The events DLQ's two dead letters, failed in Hebrew. */
const installDeadLetters = () =>
  installFakeQueue(clients.sqs, EVENTS.deadLetterUrl, [
    deadLetterMessage(1, { type: HEBREW_TYPE, failure: HEBREW_FAILURE }),
    deadLetterMessage(2, { type: HEBREW_TYPE, failure: HEBREW_FAILURE }),
  ]);

beforeAll(async () => {
  const operations = new ConsoleOperations({
    backend: testBackend(),
    target: stackTarget(),
    config: resolveConfig(exampleConfig),
    feed: unavailableFeed('no feed for a deployed stack'),
  });
  shown = consoleServerInChromium(operations);
  ({ server, browser, page } = await shown.started);
}, 180_000);

afterAll(() => shown?.close());

/**
 * Opens a page of the console afresh (a new load, not a change of hash, so it reads the dead letters this test's
 * queue holds), from the URL with the run's token, as the CLI prints it.
 */
const open = async (hash: string, on = page) => {
  await on.goto('about:blank');
  await on.goto(`${server.url}${hash}`);
};

const openFailures = async () => {
  await open('#/failures/events');
  await page.locator('tr[data-id="evt-1"]').waitFor();
};

/** The element focus is on: its text, or its accessible name (a field's name) when it has one. */
const focused = () =>
  page.evaluate(() => {
    const active = document.activeElement as HTMLElement | null;
    return {
      label:
        active?.getAttribute('aria-label') ??
        active?.getAttribute('name') ??
        active?.textContent?.trim() ??
        '',
      inDialog: active?.closest('[role="alertdialog"]') !== null,
    };
  });

/** Where focus is after each of `times` presses of `key`, pressed as a person does on the keyboard. */
const focusAfter = async (key: 'Tab' | 'Shift+Tab', times: number) => {
  const seen: Awaited<ReturnType<typeof focused>>[] = [];
  for (let i = 0; i < times; i++) {
    await page.keyboard.press(key);
    seen.push(await focused());
  }
  return seen;
};

const inDialog = (label: string) => ({ label, inDialog: true });

describe('the confirmations before destructive actions', () => {
  it('are alert dialogs: focus moves in, Escape cancels and focus returns to the button that opened them', async () => {
    await openFailures();
    await page.getByRole('checkbox', { name: 'select evt-1' }).check();
    const opener = page.getByRole('button', { name: 'Delete selected (1)...' });
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.getAttribute('aria-describedby')).not.toBeNull();
    // The least destructive choice has focus: Enter pressed twice does not delete.
    expect(await focused()).toEqual({ label: 'Cancel', inDialog: true });
    await page.keyboard.press('Escape');
    expect(await dialog.count()).toBe(0);
    expect(await focused()).toEqual({ label: 'Delete selected (1)...', inDialog: false });
  });

  it("the purge's asks for the queue's name in a labelled field, and gives focus back when cancelled", async () => {
    await openFailures();
    await page.getByRole('button', { name: 'Purge the DLQ...' }).click();
    const field = page.getByRole('alertdialog').getByRole('textbox', { name: 'Type events to confirm' });
    await field.waitFor();
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect((await focused()).label).toBe('Purge the DLQ...');
  });

  it("a whole failure's is one too", async () => {
    await openFailures();
    await page.locator('[data-whole-failure="delete"]').click();
    await page.getByRole('alertdialog').waitFor();
    expect(await focused()).toEqual({ label: 'Cancel', inDialog: true });
    expect((await focusAfter('Tab', 2)).map((f) => f.inDialog)).toEqual([true, true]);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.matches('[data-whole-failure="delete"]'))).toBe(
      true,
    );
  });

  it('keep Tab and Shift+Tab inside: from the last button to the first and back, until Escape', async () => {
    await openFailures();
    await page.getByRole('checkbox', { name: 'select evt-1' }).check();
    await page.getByRole('button', { name: 'Delete selected (1)...' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor();
    expect(await focusAfter('Tab', 3)).toEqual([
      inDialog('Delete 1 event'),
      inDialog('Cancel'),
      inDialog('Delete 1 event'),
    ]);
    expect(await focusAfter('Shift+Tab', 2)).toEqual([inDialog('Cancel'), inDialog('Delete 1 event')]);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect(await focused()).toEqual({ label: 'Delete selected (1)...', inDialog: false });
  });

  it("the purge's keeps Tab inside too, passing over Purge until the queue's name is typed", async () => {
    await openFailures();
    await page.getByRole('button', { name: 'Purge the DLQ...' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor();
    expect(await focused()).toEqual(inDialog('purge-confirm'));
    expect(await focusAfter('Shift+Tab', 1)).toEqual([inDialog('Cancel')]);
    expect(await focusAfter('Tab', 2)).toEqual([inDialog('purge-confirm'), inDialog('Cancel')]);
    expect(await focusAfter('Tab', 1)).toEqual([inDialog('purge-confirm')]);
    await page.keyboard.type('events');
    expect(await focusAfter('Tab', 3)).toEqual([
      inDialog('Purge'),
      inDialog('Cancel'),
      inDialog('purge-confirm'),
    ]);
    expect(await focusAfter('Shift+Tab', 1)).toEqual([inDialog('Cancel')]);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect(await focused()).toEqual({ label: 'Purge the DLQ...', inDialog: false });
  });
});

describe('what a screen reader is told', () => {
  it('which page and which dead-letter queue is the current one, not by colour alone, and in the title', async () => {
    await openFailures();
    expect(await page.locator('header nav a[aria-current="page"]').textContent()).toContain('Failures');
    expect(await page.locator('nav.tabs a[aria-current="page"]').getAttribute('data-tab')).toBe('events');
    expect(await page.title()).toMatch(/^Failures: events - hookline console: /);
    await page.locator('tr[data-id="evt-1"] a').click();
    await expect.poll(() => page.title()).toMatch(/^Event evt-1 - hookline console: /);
    // An event's page is part of the Events page, and the header says so.
    expect(await page.locator('header nav a[aria-current="page"]').textContent()).toContain('Events');
  });

  it("a job's outcome, from a live region that was there before the job ended", async () => {
    // The events queue takes the redriven letter back, as SQS answers a send of a batch: every entry accepted.
    clients.sqs
      .on(SendMessageBatchCommand, { QueueUrl: EVENTS.url })
      .callsFake((input: SendMessageBatchCommandInput) => ({
        Successful: (input.Entries ?? []).map((e, i) => ({
          Id: e.Id,
          MessageId: `moved-${i}`,
          MD5OfMessageBody: '',
        })),
        Failed: [],
      }));
    await openFailures();
    // Each row's button names its event: a screen reader listing the buttons hears which one each redrives.
    await page.getByRole('button', { name: 'Redrive evt-1', exact: true }).click();
    await page.locator('[data-job-state="done"], [data-job-state="failed"]').waitFor();
    expect(await page.locator('.job').getAttribute('data-job-state')).toBe('done');
    // The redrive's own summary, as the terminal prints it: the letter selected moved, the other left.
    const outcome = page.locator('.job [role="status"] .result > div');
    expect(await outcome.allTextContents()).toContain('moved 1, skipped 1, failed 0');
  });

  it('the headers of every table and the name of every field, on the failures, event and actions pages', async () => {
    const unnamed = () =>
      page.evaluate(() => {
        const fields = Array.from(document.querySelectorAll('input, select, textarea')).filter(
          (el) =>
            (el as HTMLInputElement).labels?.length === 0 &&
            !el.getAttribute('aria-label') &&
            !el.getAttribute('aria-labelledby'),
        );
        const tables = Array.from(document.querySelectorAll('table')).filter(
          (table) =>
            table.querySelector('th') === null ||
            Array.from(table.querySelectorAll('th')).some((th) => th.textContent?.trim() === ''),
        );
        return [...fields.map((el) => el.outerHTML), ...tables.map((t) => t.id || t.outerHTML.slice(0, 60))];
      });
    await openFailures();
    await page.getByRole('button', { name: 'Purge the DLQ...' }).click();
    expect(await unnamed()).toEqual([]);
    await open('#/event/evt-1');
    await page.locator('[data-dead-letter="events"]').waitFor();
    expect(await unnamed()).toEqual([]);
    await open('#/actions');
    await page.locator('#consumers').waitFor();
    expect(await unnamed()).toEqual([]);
  });
});

/** Every text on the page whose colour contrasts less than 4.5:1 with what is behind it (WCAG 1.4.3). */
function lowContrast(on: Page) {
  return on.evaluate(() => {
    const rgb = (css: string) => (css.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
      const channel = (c: number) =>
        c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4;
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (el: Element | null): number[] => {
      for (let at = el; at; at = at.parentElement) {
        const colour = rgb(getComputedStyle(at).backgroundColor);
        if (colour.length === 3 || (colour[3] ?? 0) > 0) return colour;
      }
      return [255, 255, 255];
    };
    const low: string[] = [];
    for (const el of Array.from(document.querySelectorAll('main *'))) {
      const text = Array.from(el.childNodes).some(
        (n) => n.nodeType === Node.TEXT_NODE && n.textContent?.trim(),
      );
      // A disabled control is exempt, as is what a failed read left dimmed under the note saying so.
      if (!text || el.closest(':disabled, .stale')) continue;
      const fg = luminance(rgb(getComputedStyle(el).color));
      const bg = luminance(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) low.push(`${el.className || el.tagName}: ${ratio.toFixed(2)}`);
    }
    return [...new Set(low)];
  });
}

describe('colour', () => {
  it('every state, badge and note the pages use contrasts at least 4.5:1 with its background', async () => {
    await open('#/overview');
    await page.locator('#queues tr[data-queue="events"] .warn').waitFor();
    // The job and feed states' badges, and the muted and tag texts, as the events and jobs pages show them.
    await page.evaluate(() => {
      const states = [
        'processed',
        'dead-lettered',
        'retried',
        'queued',
        'completed',
        'cancelled',
        'processing',
      ];
      const samples = document.createElement('p');
      samples.innerHTML = `${states.map((s) => `<span class="outcome ${s}">${s}</span>`).join(' ')}
        <span class="tag">fifo</span><span class="count">3</span><span class="muted">muted</span>`;
      const inNote = samples.cloneNode(true) as HTMLElement;
      inNote.className = 'note';
      document.querySelector('main')?.append(samples, inNote);
    });
    expect(await lowContrast(page)).toEqual([]);
    await openFailures();
    expect(await lowContrast(page)).toEqual([]);
  });
});

describe('a 320 px wide window (400 % zoom)', () => {
  it("keeps every page link and every failures' button inside the window", async () => {
    const narrow = await browser.newPage({ viewport: { width: 320, height: 640 } });
    try {
      await open('#/failures/events', narrow);
      await narrow.locator('tr[data-id="evt-1"]').waitFor();
      const outside = await narrow.evaluate(() =>
        Array.from(document.querySelectorAll('header a, nav.tabs a, .toolbar button'))
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth)
          .map((el) => el.textContent?.trim()),
      );
      expect(outside).toEqual([]);
    } finally {
      await narrow.close();
    }
  });
});

describe("the sender's right-to-left text", () => {
  it("is isolated from the counts around it: a group's count stays after its reason", async () => {
    await openFailures();
    const group = page.locator(`.group[data-reason*="${HEBREW_FAILURE.message}"] h3`);
    const [reasonRight, countLeft] = await group.evaluate((h3) => {
      const reason = h3.querySelector('.bad') as HTMLElement;
      const count = h3.querySelector('[data-group-count]') as HTMLElement;
      const first = document.createRange();
      first.setStart(count.firstChild as Text, 0);
      first.setEnd(count.firstChild as Text, 1);
      return [reason.getBoundingClientRect().right, first.getBoundingClientRect().left];
    });
    expect(countLeft).toBeGreaterThanOrEqual(reasonRight);
  });

  it("keeps each type's count beside its type in the By failure view", async () => {
    await openFailures();
    const types = page.locator('#failure-groups tr td:nth-child(5)').first();
    // "<type> (2)": the count's digit is drawn on the type's line, right of every letter of it, not before them.
    const { type, digit } = await types.evaluate((cell, typeLength) => {
      // On one line, so the order drawn is the bidirectional algorithm's alone, not where the narrow column wraps.
      (cell as HTMLElement).style.whiteSpace = 'nowrap';
      const box = (node: Node, from: number, to: number) => {
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, to);
        const { left, right, top } = range.getBoundingClientRect();
        return { left, right, top };
      };
      const typeText = cell.querySelector('bdi')?.firstChild ?? (cell.firstChild as Text);
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent?.indexOf('2') ?? -1;
        if (at >= 0) return { type: box(typeText, 0, typeLength), digit: box(node, at, at + 1) };
      }
      throw new Error(`no count in ${cell.textContent}`);
    }, HEBREW_TYPE.length);
    expect(digit.top).toBe(type.top);
    expect(digit.left).toBeGreaterThanOrEqual(type.right);
  });
});

describe('AWS going away and coming back', () => {
  it('a failures page read while AWS does not answer says so, then shows the dead letters once it answers, without a Refresh', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 3.5.0.1:443'), { code: 'ECONNREFUSED' });
    clients.sqs.on(ReceiveMessageCommand, { QueueUrl: EVENTS.deadLetterUrl }).rejects(refused);
    await open('#/failures/events');
    await page.locator('main [role="alert"]').waitFor();
    installDeadLetters();
    await page.locator('tr[data-id="evt-1"]').waitFor();
    expect(await page.locator('main [role="alert"]').count()).toBe(0);
  });
});
