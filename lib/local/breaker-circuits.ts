/**
 * Local mode's record of each consumer its circuit breaker tripped, and the circuit's recovery when the breaker sets
 * `halfOpenAfter`: open (paused) until the probe is due, then half-open (the emulated mapping runs at
 * {@link PROBE_CONCURRENCY}.local for one window), then closed (full concurrency, the record gone) unless it trips
 * again, which opens it for a doubled cool-down. The states and their timing are the shared rule's
 * (`lambda/shared/circuit-breaker.ts`); this class applies them to the emulated mappings on a timer. An operator's
 * pause or resume ends the record, so no probe runs after it.
 */
import {
  type BreakerTrip,
  closeDecision,
  describeBreakerState,
  halfOpenCircuit,
  openCircuit,
  PROBE_CONCURRENCY,
  probeDecision,
} from '../../lambda/shared/circuit-breaker';
import type { AlarmChange } from './alarm-watch';
import type { MappingState } from './event-source-mapping';

/** What the circuits need of a consumer: its mapping, and its breaker's window (forgotten when a probe starts). */
export interface CircuitConsumer {
  readonly mapping: {
    readonly state: MappingState;
    enable(maxConcurrency?: number): void;
  };
  readonly breaker?: { reset(): void };
}

/** A consumer's breaker settings the circuit needs: its window, and the probe delay when it recovers on its own. */
export interface CircuitSettings {
  readonly windowMinutes: number;
  readonly halfOpenAfterMinutes?: number;
}

export interface LocalBreakerCircuitsOptions {
  readonly consumers: ReadonlyMap<string, CircuitConsumer>;
  readonly settingsOf: (queue: string) => CircuitSettings | undefined;
  /** Epoch milliseconds; tests move it forward. */
  readonly now: () => number;
  /** A state change of a breaker's alarm line (`HOOKLINE_LOG=json`: an `alarm` event). */
  readonly alarm: (change: AlarmChange) => void;
  /** The records changed: save them (with the pauses) and rewrite the state file. */
  readonly changed: () => void;
}

/** How often due probes and closes are looked for. */
export const CIRCUIT_TICK_MS = 250;

/** The breaker records of the consumers, and the timer that moves their circuits on. */
export class LocalBreakerCircuits {
  private readonly trips = new Map<string, BreakerTrip>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LocalBreakerCircuitsOptions) {}

  /** The breaker's record of a consumer: what tripped it last, and where its circuit stands. */
  get(queue: string): BreakerTrip | undefined {
    return this.trips.get(queue);
  }

  /** Every record, for the file that keeps them with the pauses. */
  all(): ReadonlyMap<string, BreakerTrip> {
    return this.trips;
  }

  /**
   * The records saved by the last run that still match the consumers: a paused consumer's trip (open), or a running
   * consumer's half-open probe, which continues at probe concurrency until it closes.
   */
  restore(paused: ReadonlySet<string>, saved: ReadonlyMap<string, BreakerTrip>): void {
    for (const [queue, savedTrip] of saved) {
      const consumer = this.options.consumers.get(queue);
      if (!consumer) continue;
      // A breaker configured without a probe since then recovers manually: the saved circuit is dropped.
      const { circuit, ...trip } = savedTrip;
      const probes = this.options.settingsOf(queue)?.halfOpenAfterMinutes !== undefined;
      const halfOpen = probes && circuit?.state === 'half-open';
      if (paused.has(queue) === halfOpen) continue;
      this.trips.set(queue, probes && circuit ? { ...trip, circuit } : trip);
      if (halfOpen) consumer.mapping.enable(PROBE_CONCURRENCY.local);
    }
  }

  /** The breaker tripped: the record opens (the caller pauses the consumer); with a probe, its time is set. */
  open(queue: string, trip: BreakerTrip): BreakerTrip {
    const halfOpenAfter = this.options.settingsOf(queue)?.halfOpenAfterMinutes;
    const recorded: BreakerTrip = halfOpenAfter
      ? { ...trip, circuit: openCircuit(this.trips.get(queue)?.circuit, this.options.now(), halfOpenAfter) }
      : trip;
    this.trips.set(queue, recorded);
    return recorded;
  }

  /** An operator paused or resumed the consumer: the breaker's record ends (returned, when there was one). */
  end(queue: string): BreakerTrip | undefined {
    const trip = this.trips.get(queue);
    this.trips.delete(queue);
    return trip;
  }

  /** Starts looking for due probes and closes. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(), CIRCUIT_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs each probe and close that is due. */
  tick(): void {
    const now = this.options.now();
    for (const [queue, trip] of [...this.trips]) {
      const { circuit } = trip;
      if (circuit?.probeAt && Date.parse(circuit.probeAt) <= now) this.probe(queue, trip, now);
      else if (circuit?.closesAt && Date.parse(circuit.closesAt) <= now) this.close(queue, trip);
    }
  }

  /** A due probe: the consumer runs again at probe concurrency, judged on its records from now on. */
  private probe(queue: string, trip: BreakerTrip, now: number): void {
    const consumer = this.options.consumers.get(queue);
    const settings = this.options.settingsOf(queue);
    const facts = {
      circuit: trip.circuit,
      paused: consumer?.mapping.state === 'Disabled',
      alarmFiring: false,
    };
    if (!consumer || !settings || !trip.circuit || probeDecision(facts) !== 'probe') {
      this.trips.delete(queue);
      this.options.changed();
      return;
    }
    const probing: BreakerTrip = {
      ...trip,
      circuit: halfOpenCircuit(trip.circuit, now, {
        minutes: settings.windowMinutes,
        concurrency: PROBE_CONCURRENCY.local,
      }),
    };
    this.trips.set(queue, probing);
    consumer.breaker?.reset();
    consumer.mapping.enable(PROBE_CONCURRENCY.local);
    this.options.changed();
    this.options.alarm({
      queue,
      alarm: 'circuit-breaker',
      state: 'OK',
      circuit: 'half-open',
      message: `${queue}: consumer ${describeBreakerState(probing)}; a failure share like the trip's pauses it again`,
    });
  }

  /** A due close: nothing tripped during the probe, so the consumer runs at its full concurrency again. */
  private close(queue: string, trip: BreakerTrip): void {
    const consumer = this.options.consumers.get(queue);
    const facts = {
      circuit: trip.circuit,
      paused: consumer?.mapping.state !== 'Enabled',
      alarmFiring: false,
    };
    this.trips.delete(queue);
    if (consumer && closeDecision(facts) === 'close') {
      consumer.mapping.enable();
      this.options.alarm({
        queue,
        alarm: 'circuit-breaker',
        state: 'OK',
        circuit: 'closed',
        message: `${queue}: circuit breaker closed: no trip during the probe since ${trip.circuit?.since}; the consumer runs at full concurrency again`,
      });
    }
    this.options.changed();
  }
}
