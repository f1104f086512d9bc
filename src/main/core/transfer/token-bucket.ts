/**
 * Bandwidth limit: a token bucket of `rate` bytes per second with a burst of a quarter second.
 * The rate can change while transfers run; 0 or undefined means unlimited. Several buckets can
 * apply to one transfer (the global limit and the job's own): it takes from each.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { limitAt, type BandwidthSchedule } from '../../../shared/bandwidth-schedule';

export class TokenBucket {
  #rate: number;
  #tokens: number;
  #last: number;

  constructor(
    rate: number | undefined,
    private readonly now: () => number = () => performance.now(),
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<unknown> = (ms, signal) =>
      sleep(ms, undefined, { signal }),
  ) {
    this.#rate = rate ?? 0;
    this.#tokens = this.#burst();
    this.#last = this.now();
  }

  get rate(): number {
    return this.#rate;
  }

  #burst(): number {
    return Math.max(64 * 1024, this.#rate / 4);
  }

  /** Change the rate now (bytes per second; 0 = unlimited). */
  setRate(rate: number | undefined): void {
    this.#refill();
    this.#rate = rate ?? 0;
    this.#tokens = Math.min(this.#tokens, this.#burst());
  }

  #refill(): void {
    const t = this.now();
    if (this.#rate > 0) this.#tokens = Math.min(this.#burst(), this.#tokens + ((t - this.#last) / 1000) * this.#rate);
    this.#last = t;
  }

  /** Wait until `bytes` may go. A request larger than the burst goes in burst-sized slices. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    let left = bytes;
    while (left > 0) {
      if (this.#rate <= 0) return;
      this.#refill();
      const want = Math.min(left, this.#burst());
      if (this.#tokens >= want) {
        this.#tokens -= want;
        left -= want;
        continue;
      }
      const waitMs = ((want - this.#tokens) / this.#rate) * 1000;
      await this.wait(Math.max(1, Math.ceil(waitMs)), signal);
    }
  }
}

/** What the global limit is now, and why: a constant, or a schedule until its next change. */
export interface BandwidthNow {
  /** Bytes per second; 0: none. */
  rate: number;
  /** Set by a schedule: when it changes next (undefined: never). */
  schedule?: { until: Date | undefined };
}

/**
 * The global limit (a constant, or a weekly schedule followed live: `follow` at each tick sets
 * the rate running transfers take from) and each job's own (`--bwlimit` on a job): the buckets a
 * job's transfer takes from.
 */
export class BandwidthLimits {
  readonly global: TokenBucket;
  readonly #perJob = new Map<string, TokenBucket>();
  #schedule: BandwidthSchedule | undefined;
  #now: BandwidthNow;

  constructor(globalRate: number | undefined) {
    this.global = new TokenBucket(globalRate);
    this.#now = { rate: globalRate ?? 0 };
  }

  /** A constant global limit (bytes per second, 0 or undefined: none); a schedule is dropped. */
  setRate(rate: number | undefined): void {
    this.#schedule = undefined;
    this.global.setRate(rate);
    this.#now = { rate: rate ?? 0 };
  }

  /** The global limit: a schedule when one is given, else the rate (a saved setting, `--bwlimit`). */
  apply(limit: { rate?: number; schedule?: BandwidthSchedule }, at = new Date()): void {
    if (limit.schedule !== undefined) this.setSchedule(limit.schedule, at);
    else this.setRate(limit.rate);
  }

  /** A weekly schedule for the global limit, in force at once. */
  setSchedule(schedule: BandwidthSchedule, at = new Date()): void {
    this.#schedule = schedule;
    this.follow(at);
  }

  /** The schedule's limit at `at`, applied when it changed; true when it did. */
  follow(at = new Date()): boolean {
    if (this.#schedule === undefined) return false;
    const { rate, until } = limitAt(this.#schedule, at);
    const changed = rate !== this.global.rate || this.#now.schedule === undefined;
    if (rate !== this.global.rate) this.global.setRate(rate);
    this.#now = { rate, schedule: { until } };
    return changed;
  }

  get now(): BandwidthNow {
    return this.#now;
  }

  forJob(jobId: string, rate: number | null): TokenBucket[] {
    if (rate === null || rate <= 0) return [this.global];
    let b = this.#perJob.get(jobId);
    if (b === undefined) {
      b = new TokenBucket(rate);
      this.#perJob.set(jobId, b);
    }
    return [this.global, b];
  }
}
