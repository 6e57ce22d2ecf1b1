/**
 * Sortable ids for requests whose sender gives no delivery id: ULID layout (26 Crockford base32
 * characters), 48 bits of milliseconds then 80 random bits, so ids sort by arrival time.
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new ULID-like id for the given time (default now). */
export function newSortableId(nowMs: number = Date.now(), random: Buffer = randomBytes(10)): string {
  let time = Math.max(0, Math.min(Math.floor(nowMs), 2 ** 48 - 1));
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD.charAt(time % 32) + head;
    time = Math.floor(time / 32);
  }
  // 80 random bits -> 16 characters of 5 bits each.
  let tail = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of random.subarray(0, 10)) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      tail += CROCKFORD.charAt((buffer >> bits) & 31);
    }
    buffer &= (1 << bits) - 1;
  }
  return head + tail;
}
