// A Map that remembers which keys were set or deleted since its log was last taken. The proxier's service-port and
// endpoints maps are these, so the ruleset cache learns what changed between two syncs without comparing every
// entry. Only one follower can read the log: `takes` tells a follower whether someone else took it in between, in
// which case it has to compare everything itself. Limits: a value changed in place (not through `set`) goes unseen.

export class LoggedMap<V> extends Map<string, V> {
  // Optional because Map's constructor may call `set` before field initialisers run.
  private touched?: Set<string> = new Set();
  /** How many times the log was taken. */
  takes = 0;

  override set(key: string, value: V): this {
    this.touched?.add(key);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    this.touched?.add(key);
    return super.delete(key);
  }

  override clear(): void {
    for (const key of this.keys()) this.touched?.add(key);
    super.clear();
  }

  /** The keys set or deleted since the last call (in the order first touched), and a fresh log. */
  take(): Set<string> {
    const log = this.touched ?? new Set<string>();
    this.touched = new Set();
    this.takes++;
    return log;
  }
}
