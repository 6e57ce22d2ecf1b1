/**
 * Local mode's stand-in for SQS fair queues: received messages wait in one lane per tenant, and batches are
 * drawn from the lanes in turn, one record per tenant per round, so a tenant with a backlog of thousands gets
 * the same share of each batch as a tenant with a handful. Pure (no SQS): the event source mapping fills and
 * drains it.
 *
 * The tenant is what SQS fair queues key on, the message group id; the emulator drops group ids on standard
 * queues, so the `hookline.tenant` attribute the ingest function sets alongside stands in. A message with
 * neither is a tenant of its own, as in SQS.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { recordedTenantOf } from '../../lambda/shared/envelope';

/** The tenant SQS fair queues would see for a message. */
export function tenantOf(message: Message): string {
  return recordedTenantOf(message) ?? `message:${message.MessageId ?? ''}`;
}

/** A held message and when its visibility was last set. */
interface Held {
  message: Message;
  visibleFromMs: number;
}

/** Per-tenant lanes of received messages, drained round-robin. */
export class TenantLanes {
  private readonly lanes = new Map<string, Held[]>();
  /** Held messages by message id: one that came back (its hold ran out) replaces its stale copy. */
  private readonly byId = new Map<string, Held>();
  /** Tenants with waiting messages, in the order they are served next. */
  private ring: string[] = [];
  private count = 0;

  /** Messages waiting in all lanes. */
  get size(): number {
    return this.count;
  }

  /** Messages waiting in each tenant's lane, by tenant. */
  waitingByTenant(): Map<string, number> {
    return new Map([...this.lanes].map(([tenant, lane]) => [tenant, lane.length]));
  }

  /** Adds received messages, each to its tenant's lane; `visibleFromMs` is when SQS would show it again. */
  add(messages: readonly Message[], visibleFromMs: number): void {
    for (const message of messages) {
      const stale = message.MessageId ? this.byId.get(message.MessageId) : undefined;
      if (stale) {
        stale.message = message;
        stale.visibleFromMs = visibleFromMs;
        continue;
      }
      const tenant = tenantOf(message);
      let lane = this.lanes.get(tenant);
      if (!lane) {
        lane = [];
        this.lanes.set(tenant, lane);
        this.ring.push(tenant);
      }
      const held = { message, visibleFromMs };
      lane.push(held);
      if (message.MessageId) this.byId.set(message.MessageId, held);
      this.count += 1;
    }
  }

  /** Up to `max` messages, one per tenant per round, starting with the tenant served longest ago. */
  take(max: number): Message[] {
    const batch: Message[] = [];
    while (batch.length < max && this.ring.length > 0) {
      const served: string[] = [];
      for (const tenant of this.ring) {
        if (batch.length >= max) break;
        const held = this.lanes.get(tenant)?.shift();
        if (held) {
          batch.push(held.message);
          if (held.message.MessageId) this.byId.delete(held.message.MessageId);
        }
        served.push(tenant);
      }
      this.rotate(served);
    }
    this.count -= batch.length;
    return batch;
  }

  /** Drops the waiting messages with these receipt handles: they are no longer held (a purge deleted them). */
  forget(receiptHandles: ReadonlySet<string | undefined>): void {
    for (const [tenant, lane] of this.lanes) {
      const kept = lane.filter((held) => !receiptHandles.has(held.message.ReceiptHandle));
      if (kept.length === lane.length) continue;
      for (const held of lane) {
        if (!kept.includes(held) && held.message.MessageId) this.byId.delete(held.message.MessageId);
      }
      this.count -= lane.length - kept.length;
      if (kept.length > 0) {
        this.lanes.set(tenant, kept);
      } else {
        this.lanes.delete(tenant);
        this.ring = this.ring.filter((t) => t !== tenant);
      }
    }
  }

  /** Every waiting message, emptying the lanes (to hand them back on pause or shutdown). */
  drain(): Message[] {
    const all = [...this.lanes.values()].flatMap((lane) => lane.map((h) => h.message));
    this.lanes.clear();
    this.byId.clear();
    this.ring = [];
    this.count = 0;
    return all;
  }

  /**
   * Waiting messages that SQS would show again before `untilMs`, marked as extended to `extendedToMs`: the
   * caller extends their visibility so a message waiting its turn is not delivered twice.
   */
  expiring(untilMs: number, extendedToMs: number): Message[] {
    const out: Message[] = [];
    for (const lane of this.lanes.values()) {
      for (const held of lane) {
        if (held.visibleFromMs > untilMs) continue;
        held.visibleFromMs = extendedToMs;
        out.push(held.message);
      }
    }
    return out;
  }

  /** Served tenants go to the back of the ring; tenants whose lane is empty leave it. */
  private rotate(served: readonly string[]): void {
    const servedSet = new Set(served);
    const rest = this.ring.filter((t) => !servedSet.has(t));
    this.ring = [...rest, ...served].filter((tenant) => {
      if ((this.lanes.get(tenant)?.length ?? 0) > 0) return true;
      this.lanes.delete(tenant);
      return false;
    });
  }
}
