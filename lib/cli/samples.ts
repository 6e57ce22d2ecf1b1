/**
 * Realistic built-in webhook bodies per sender type, for `hookline send --sample`: what GitHub, Stripe, Slack,
 * Shopify, a Standard Webhooks sender or a generic service would post, with the event headers they add.
 * Every call gets a fresh delivery id, so repeated sends are not deduplicated away. Each sample lives with its
 * sender (`lambda/shared/senders/<type>.ts`).
 */
import { describeEvent, sanitizeType } from '../../lambda/ingest/normalize';
import { httpHeaderCarries } from '../../lambda/shared/contracts';
import { SENDER_LIST, senderFor } from '../../lambda/shared/senders';
import type { SampleOptions, SampleRequest } from '../../lambda/shared/senders/sender';
import type { ResolvedSource } from '../config';
import { readingSettingsOf } from '../runtime-wiring';

export type { SampleOptions, SampleRequest } from '../../lambda/shared/senders/sender';

/** The default event type of each sender's sample. */
export const SAMPLE_TYPES: Readonly<Record<ResolvedSource['type'], string>> = Object.fromEntries(
  SENDER_LIST.map((sender) => [sender.type, sender.sampleType]),
) as Record<ResolvedSource['type'], string>;

/** Builds the sample request a source of this type would receive. */
export function sampleRequest(source: ResolvedSource, options: SampleOptions): SampleRequest {
  const settings = readingSettingsOf(source);
  return senderFor(settings).sample(settings, options);
}

/**
 * Why `--type` cannot be honoured for this source, or undefined when it can: the type must land where the
 * ingest reads it, which the source's sender knows.
 */
export function typeOverrideProblem(source: ResolvedSource, type: string, file: boolean): string | undefined {
  if (type.trim() === '') return '--type must not be empty: give an event type, or leave --type out';
  const settings = readingSettingsOf(source);
  const problem = senderFor(settings).typeOverrideProblem(settings, type, file);
  if (problem) {
    return `--type ${type} is not supported for source ${source.name} (${source.type})${file ? ' with --file' : ''}: ${problem}`;
  }
  // A header the type travels in must carry it, or the request could not even be sent.
  const header = Object.entries(senderFor(settings).typeHeaders(settings, type)).find(
    ([, value]) => !httpHeaderCarries(value),
  )?.[0];
  return (
    header &&
    `--type ${JSON.stringify(type)} cannot be sent for source ${source.name}: it travels in the ${header} header, which holds no line break and no character above U+00FF; give a type without them`
  );
}

/**
 * The event type the ingest derives from a body sent as-is with these (lower-case) headers, as the source's sender
 * describes it there; null for a body the sender cannot read, which the ingest refuses.
 */
export function describedType(
  source: ResolvedSource,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
): string | null {
  const described = describeEvent(readingSettingsOf(source), headers, body);
  return described.ok ? sanitizeType(described.type) : null;
}

/** Headers that name the event type for a file body (`--file` with `--type`), where the sender uses headers. */
export function typeHeadersFor(source: ResolvedSource, type: string | undefined): Record<string, string> {
  const settings = readingSettingsOf(source);
  return senderFor(settings).typeHeaders(settings, type);
}
