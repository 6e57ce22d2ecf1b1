/** Building blocks of the answers senders read: the defaults of senders content with hookline's own. */
import type { SenderAnswer } from './sender';

/** Keeps hookline's `202 {"id"}` for an accepted request: what a sender that reads only the status gets. */
export const hooklineAcknowledgement = (): SenderAnswer | undefined => undefined;

/** A sender that makes no unsigned probe requests: every request goes through its signature check. */
export const noProbe = (): SenderAnswer | undefined => undefined;

/** An empty 200: what Slack reads as a plain acknowledgement (a body would be posted as a message). */
export const EMPTY_OK: SenderAnswer = { statusCode: 200, contentType: 'text/plain', body: '' };
