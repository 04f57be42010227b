// The API server's allocation bitmap (pkg/registry/core/service/allocator) with its "random scan with offset"
// strategy: the range is split into a lower static band (for addresses and ports users ask for by value) and an
// upper dynamic band; AllocateNext starts at a random point of the upper band and scans forward (wrapping inside
// the band), and only when the upper band is full does it scan the lower band from a random point. Randomness comes
// from the seeded Rng, so a run repeats. An offset of 0 means no split: a plain random scan of the whole range.

import type { Rng } from '../../sim/rng.js';

export class AllocationBitmap {
  private bits: Uint8Array;
  private count = 0;

  constructor(
    /** Number of items (offsets 0 … max-1). */
    readonly max: number,
    /** Size of the lower static band. */
    readonly offset: number,
    private readonly rng: Rng,
  ) {
    if (!(offset >= 0 && offset < Math.max(1, max))) throw new RangeError(`bad static band ${offset} of ${max}`);
    this.bits = new Uint8Array(Math.ceil(max / 8));
  }

  has(i: number): boolean {
    return i >= 0 && i < this.max && (this.bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  /** Reserves item `i`; false when it is already taken. */
  allocate(i: number): boolean {
    if (i < 0 || i >= this.max) throw new RangeError(`offset ${i} outside 0..${this.max - 1}`);
    if (this.has(i)) return false;
    this.bits[i >> 3]! |= 1 << (i & 7);
    this.count++;
    return true;
  }

  /** Reserves a free item chosen by the strategy; undefined when the range is full. */
  allocateNext(): number | undefined {
    if (this.count >= this.max) return undefined;
    const upper = this.max - this.offset;
    const start = this.rng.int(0, upper - 1);
    for (let k = 0; k < upper; k++) {
      const at = this.offset + ((start + k) % upper);
      if (!this.has(at)) {
        this.allocate(at);
        return at;
      }
    }
    if (this.offset === 0) return undefined;
    const lower = this.rng.int(0, this.offset - 1);
    for (let k = 0; k < this.offset; k++) {
      const at = (lower + k) % this.offset;
      if (!this.has(at)) {
        this.allocate(at);
        return at;
      }
    }
    return undefined;
  }

  release(i: number): void {
    if (!this.has(i)) return;
    this.bits[i >> 3]! &= ~(1 << (i & 7));
    this.count--;
  }

  get used(): number {
    return this.count;
  }

  get free(): number {
    return this.max - this.count;
  }
}
