/**
 * INFO's instantaneous_* fields, as Redis computes them (server.c trackInstantaneousMetric):
 * a rate sampled every 100 ms, averaged over the last 16 samples.
 */

const SAMPLES = 16;

/** One rolling rate: feed it a running total every 100 ms. */
export class RateMeter {
  private readonly samples = new Float64Array(SAMPLES);
  private next = 0;
  private lastValue = 0;
  private lastMs = -1;

  /** Record the running total `value` as of `nowMs`. */
  sample(value: number, nowMs: number): void {
    const dt = nowMs - this.lastMs;
    if (this.lastMs >= 0 && dt > 0) {
      this.samples[this.next] = ((value - this.lastValue) * 1000) / dt;
      this.next = (this.next + 1) % SAMPLES;
    }
    this.lastValue = value;
    this.lastMs = nowMs;
  }

  /** Forget every sample (CONFIG RESETSTAT). */
  reset(): void {
    this.samples.fill(0);
    this.next = 0;
    this.lastValue = 0;
    this.lastMs = -1;
  }

  /** The average rate per second over the samples. */
  get perSecond(): number {
    let sum = 0;
    for (const s of this.samples) sum += s;
    return sum / SAMPLES;
  }
}
