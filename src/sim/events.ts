// Virtual time and the event queue that drives every packet. Time is an integer count of nanoseconds (a JS number
// stays exact up to 2^53 ns ≈ 104 days). Events fire in (time, sequence) order: two events at the same instant run
// in the order they were scheduled, which makes every run repeatable. Nothing here reads the wall clock.

export type Nanos = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

type Callback = () => void;

/** A binary min-heap of events keyed by (at, seq), stored in parallel arrays to avoid per-event objects. */
export class EventQueue {
  private at: number[] = [];
  private seq: number[] = [];
  private fn: Callback[] = [];
  private nextSeq = 0;
  now: Nanos = 0;
  /** Events run so far; a bound on it turns a runaway loop into an error instead of a hang. */
  executed = 0;

  get size(): number {
    return this.at.length;
  }

  /** Schedules `fn` to run `delay` ns from now (0 = after everything already due now). */
  schedule(delay: Nanos, fn: Callback): void {
    if (!(delay >= 0)) throw new RangeError(`negative delay ${delay}`);
    this.push(this.now + delay, fn);
  }

  private push(t: number, f: Callback): void {
    const s = this.nextSeq++;
    const at = this.at;
    const sq = this.seq;
    const fn = this.fn;
    let i = at.length;
    at.push(t);
    sq.push(s);
    fn.push(f);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! < t || (at[p] === t && sq[p]! < s)) break;
      at[i] = at[p]!;
      sq[i] = sq[p]!;
      fn[i] = fn[p]!;
      i = p;
    }
    at[i] = t;
    sq[i] = s;
    fn[i] = f;
  }

  /** Time of the next event, or Infinity when idle. */
  peekTime(): number {
    return this.at.length ? this.at[0]! : Number.POSITIVE_INFINITY;
  }

  private pop(): Callback {
    const at = this.at;
    const sq = this.seq;
    const fn = this.fn;
    const top = fn[0]!;
    const lastT = at.pop()!;
    const lastS = sq.pop()!;
    const lastF = fn.pop()!;
    const n = at.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (at[r]! < at[l]! || (at[r] === at[l] && sq[r]! < sq[l]!))) c = r;
        if (at[c]! > lastT || (at[c] === lastT && sq[c]! > lastS)) break;
        at[i] = at[c]!;
        sq[i] = sq[c]!;
        fn[i] = fn[c]!;
        i = c;
      }
      at[i] = lastT;
      sq[i] = lastS;
      fn[i] = lastF;
    }
    return top;
  }

  /**
   * Runs events until none is left at or before `until`, then sets the clock to `until` (if finite).
   * `maxEvents` bounds the work; exceeding it throws, naming the bound.
   */
  run(until: Nanos = Number.POSITIVE_INFINITY, maxEvents = 50_000_000): void {
    const limit = this.executed + maxEvents;
    while (this.at.length && this.at[0]! <= until) {
      this.now = this.at[0]!;
      const f = this.pop();
      f();
      if (++this.executed > limit) throw new Error(`event queue: more than ${maxEvents} events without settling`);
    }
    if (until !== Number.POSITIVE_INFINITY && until > this.now) this.now = until;
  }

  /** Runs events while `cond()` holds and the next event is due at or before `until`. */
  runWhile(cond: () => boolean, until: Nanos, maxEvents = 50_000_000): void {
    const limit = this.executed + maxEvents;
    while (cond() && this.at.length && this.at[0]! <= until) {
      this.now = this.at[0]!;
      const f = this.pop();
      f();
      if (++this.executed > limit) throw new Error(`event queue: more than ${maxEvents} events without settling`);
    }
  }

  /** Drops every pending event (used when a scenario resets). */
  clear(): void {
    this.at.length = 0;
    this.seq.length = 0;
    this.fn.length = 0;
  }
}
