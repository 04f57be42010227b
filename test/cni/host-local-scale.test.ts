// host-local at cluster scale: 10,000 pods on 100 nodes with a /24 each, and one node with a /16. The walk starts
// after last_reserved_ip.N like the reference's iterator, and the store answers "what does this container hold"
// from an index instead of reading every file per ADD, so the work per ADD stays bounded as the pool fills. The
// counts below are of filesystem operations, which do not depend on the machine's speed.

import { describe, expect, it } from 'vitest';
import { type GenerationalFs, MemFs } from '../../src/cni/fs.js';
import { Rng } from '../../src/sim/rng.js';
import { add, del, mkConf } from './host-local-harness.js';

/** A MemFs that counts the operations made on it. */
class CountingFs implements GenerationalFs {
  readonly mem = new MemFs();
  ops = { read: 0, write: 0, remove: 0, list: 0, exists: 0 };
  read(p: string) {
    this.ops.read++;
    return this.mem.read(p);
  }
  write(p: string, d: string) {
    this.ops.write++;
    this.mem.write(p, d);
  }
  remove(p: string) {
    this.ops.remove++;
    return this.mem.remove(p);
  }
  list(d: string) {
    this.ops.list++;
    return this.mem.list(d);
  }
  exists(p: string) {
    this.ops.exists++;
    return this.mem.exists(p);
  }
  mkdir(p: string) {
    this.mem.mkdir(p);
  }
  generation(d: string) {
    return this.mem.generation(d);
  }
  total(): number {
    return Object.values(this.ops).reduce((a, b) => a + b, 0);
  }
}

describe('host-local scale', () => {
  it('10,000 pods on 100 nodes with a /24 each: distinct addresses, bounded work per ADD', () => {
    let maxOpsPerAdd = 0;
    let lists = 0;
    for (let n = 0; n < 100; n++) {
      const fs = new CountingFs();
      const conf = mkConf({ subnet: `10.244.${n}.0/24` });
      const seen = new Set<string>();
      for (let p = 0; p < 100; p++) {
        const before = fs.total();
        const ip = add(fs, conf, `node${n}-pod${p}`).ips![0]!.address;
        maxOpsPerAdd = Math.max(maxOpsPerAdd, fs.total() - before);
        seen.add(ip);
      }
      expect(seen.size).toBe(100);
      expect([...seen][99]).toBe(`10.244.${n}.101/24`);
      lists += fs.ops.list;
    }
    // One directory read per node (the index), then a handful of lookups and writes per ADD.
    expect(lists).toBe(100);
    expect(maxOpsPerAdd).toBeLessThanOrEqual(8);
  });

  it('a /16 with 10,000 pods and churn: probes per ADD stay near one', () => {
    const fs = new CountingFs();
    const conf = mkConf({ subnet: '10.42.0.0/16' });
    const rng = new Rng(1);
    const live: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      add(fs, conf, `pod${i}`);
      live.push(`pod${i}`);
    }
    // Delete half at random, then add 10,000 more: the walk continues after the last reserved address.
    for (let i = 0; i < 5_000; i++) del(fs, conf, live.splice(rng.int(0, live.length - 1), 1)[0]!);
    const before = { ...fs.ops };
    for (let i = 0; i < 10_000; i++) add(fs, conf, `late${i}`);
    const exists = fs.ops.exists - before.exists;
    const reads = fs.ops.read - before.read;
    // One exists() for the lock file and one per probed address; no address is probed twice.
    expect(exists / 10_000).toBeLessThan(2.1);
    expect(reads / 10_000).toBeLessThan(1.1);
    expect(fs.ops.list).toBe(1);
    expect(fs.mem.read('/var/lib/cni/networks/cbr0/last_reserved_ip.0')).toBe('10.42.78.33');
  });

  it('when the pool is nearly full the walk skips taken addresses once per pass, as the reference does', () => {
    const fs = new CountingFs();
    const conf = mkConf({ subnet: '10.9.0.0/22' });
    for (let i = 0; i < 1021; i++) add(fs, conf, `p${i}`);
    del(fs, conf, 'p500');
    const before = fs.ops.exists;
    expect(add(fs, conf, 'again').ips![0]!.address).toBe('10.9.1.246/22');
    // From the last reserved (the end) it wraps and steps over 500 taken addresses to reach the freed one.
    expect(fs.ops.exists - before).toBe(1 + 501);
  });
});
