// One seeded PRNG for everything random in a run (MAC addresses, ephemeral ports, ICMP ids, TCP initial sequence
// numbers, `-m statistic`), so that the same scenario and seed give byte-identical output. Backed by pure-rand's
// xoroshiro128+; consumers draw in a fixed order, so adding a draw changes later values (golden files record that).

import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { Mac } from '../wire/addr.js';

export class Rng {
  private gen: RandomGenerator;

  constructor(readonly seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** Uniform uint32. */
  u32(): number {
    return this.gen.next() >>> 0;
  }

  /** Uniform integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    const span = max - min + 1;
    if (span <= 0) throw new RangeError(`empty range ${min}..${max}`);
    // Rejection sampling keeps the draw unbiased for spans that do not divide 2^32.
    const limit = Math.floor(0x100000000 / span) * span;
    let v = this.u32();
    while (v >= limit) v = this.u32();
    return min + (v % span);
  }

  /** Uniform float in [0, 1) with 32 bits of precision. */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** A locally administered unicast MAC, as the kernel's eth_random_addr() makes them. */
  mac(): Mac {
    const hi = ((this.u32() & 0xfeff) | 0x0200) & 0xfeff; // first octet: clear multicast bit, set local bit
    const lo = this.u32();
    return hi * 0x100000000 + lo;
  }
}
