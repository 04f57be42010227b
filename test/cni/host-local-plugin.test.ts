// host-local as a plugin: requested addresses (CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips) honoured or refused,
// rollback of a partial ADD, CHECK, the registry, the store seen through edits made by others, and determinism.
// Cases name the reference behaviour (containernetworking/plugins host-local host_local_test.go, main.go).

import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { findIpam, type IpamPlugin, ipamTypes, registerIpam } from '../../src/cni/ipam/index.js';
import type { NodeFs, Plugin } from '../../src/cni/types.js';
import { Rng } from '../../src/sim/rng.js';
import { add, check, del, mkConf, storeFiles, tryAdd } from './host-local-harness.js';

const DIR = '/var/lib/cni/networks/cbr0';
const twoSets = { ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/24' }]] };

describe('host-local requested addresses', () => {
  // host_local_test "allocates a custom IP when requested by config args"
  it('honours args.cni.ips', () => {
    const conf = mkConf({ subnet: '10.1.2.0/24' }, { args: { cni: { ips: ['10.1.2.88'] } } });
    expect(tryAdd(new MemFs(), conf, 'a')).toEqual(['10.1.2.88/24']);
  });

  // "allocates custom IPs from multiple ranges": each set takes the address it contains
  it('gives each range set the requested address it contains', () => {
    const conf = mkConf(twoSets, { args: { cni: { ips: ['10.1.3.77', '10.1.2.88'] } } });
    expect(tryAdd(new MemFs(), conf, 'a')).toEqual(['10.1.2.88/24', '10.1.3.77/24']);
  });

  it('honours CNI_ARGS IP= and runtimeConfig.ips (the ips capability), mixing with round-robin', () => {
    const fs = new MemFs();
    const conf = mkConf(twoSets, { runtimeConfig: { ips: ['10.1.3.50/24'] } });
    expect(tryAdd(fs, conf, { id: 'a', args: { IP: '10.1.2.40', IgnoreUnknown: '1', K8S_POD_NAME: 'web' } })).toEqual([
      '10.1.2.40/24',
      '10.1.3.50/24',
    ]);
    // The walk resumes after the requested addresses (they were recorded as last reserved).
    expect(tryAdd(fs, mkConf(twoSets), 'b')).toEqual(['10.1.2.41/24', '10.1.3.51/24']);
  });

  // "fails if a requested custom IP is not used": a second address for the same set is left over
  it('fails when a requested address was not used, releasing what it took', () => {
    const fs = new MemFs();
    const conf = mkConf(twoSets, { args: { cni: { ips: ['10.1.2.88', '10.1.2.77'] } } });
    expect(tryAdd(fs, conf, 'a')).toBe('!failed to allocate all requested IPs: 10.1.2.77');
    expect(Object.keys(storeFiles(fs))).toEqual(['last_reserved_ip.0', 'last_reserved_ip.1', 'lock']);
  });

  it('fails for an address inside the subnet but outside the range', () => {
    const conf = mkConf({ subnet: '10.1.2.0/24', rangeStart: '10.1.2.100' }, { args: { cni: { ips: ['10.1.2.50'] } } });
    expect(tryAdd(new MemFs(), conf, 'a')).toBe('!failed to allocate all requested IPs: 10.1.2.50');
  });

  // allocator.Get with a requested address: taken, or the gateway
  it('refuses a taken address and the gateway', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    add(fs, conf, 'a');
    expect(tryAdd(fs, conf, { id: 'b', args: { IP: '10.1.2.2' } })).toBe(
      '!failed to allocate for range 0: requested IP address 10.1.2.2 is not available in range set 10.1.2.1-10.1.2.254',
    );
    expect(tryAdd(fs, conf, { id: 'b', args: { IP: '10.1.2.1' } })).toBe(
      "!failed to allocate for range 0: requested ip 10.1.2.1 is subnet's gateway",
    );
  });

  it('lets a container take a requested address even when it already holds one (no duplicate check)', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    add(fs, conf, 'a');
    expect(tryAdd(fs, conf, { id: 'a', args: { IP: '10.1.2.9' } })).toEqual(['10.1.2.9/24']);
  });

  it('refuses unknown CNI_ARGS unless IgnoreUnknown is set', () => {
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    expect(tryAdd(new MemFs(), conf, { id: 'a', args: { K8S_POD_NAME: 'web' } })).toBe(
      '!ARGS: unknown args ["K8S_POD_NAME=web"]',
    );
  });
});

describe('host-local rollback, DEL and CHECK', () => {
  // cmdAdd: on failure in a later set, the addresses of earlier sets are released (last_reserved_ip stays)
  it('releases the first set when the second is exhausted', () => {
    const fs = new MemFs();
    const conf = mkConf({ ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: '10.1.3.0/30' }]] });
    expect(tryAdd(fs, conf, 'a')).toEqual(['10.1.2.2/24', '10.1.3.2/30']);
    expect(tryAdd(fs, conf, 'b')).toBe(
      '!failed to allocate for range 1: no IP addresses available in range set: 10.1.3.1-10.1.3.2',
    );
    expect(storeFiles(fs)).toEqual({
      '10.1.2.2': 'a\r\neth0',
      '10.1.3.2': 'a\r\neth0',
      'last_reserved_ip.0': '10.1.2.3',
      'last_reserved_ip.1': '10.1.3.2',
      lock: '',
    });
    // Round robin moved on: the next ADD in set 0 starts after .3.
    del(fs, conf, 'a');
    expect(tryAdd(fs, conf, 'c')).toEqual(['10.1.2.4/24', '10.1.3.2/30']);
  });

  // cmdCheck / Store.FindByID
  it('CHECK succeeds for a stored container and fails otherwise', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    add(fs, conf, 'pod');
    expect(check(fs, conf, 'pod')).toBeNull();
    expect(check(fs, conf, 'nope')).toBe('host-local: Failed to find address added by container nope');
    // The reference also accepts files holding only the container ID.
    fs.write(`${DIR}/10.1.2.9`, 'legacy\n');
    expect(check(fs, conf, { id: 'legacy', ifName: 'whatever' })).toBeNull();
    del(fs, conf, 'pod');
    expect(check(fs, conf, 'pod')).toBe('host-local: Failed to find address added by container pod');
  });

  it('DEL and CHECK still load the configuration and fail on a bad one', () => {
    const bad = mkConf({ subnet: '10.1.2.0/33' });
    expect(() => del(new MemFs(), bad, 'a')).toThrow('invalid CIDR address: 10.1.2.0/33');
    expect(check(new MemFs(), bad, 'a')).toBe('invalid CIDR address: 10.1.2.0/33');
  });

  it('keeps networks apart by name', () => {
    const fs = new MemFs();
    const a = mkConf({ subnet: '10.1.2.0/24' });
    const b = { ...mkConf({ subnet: '10.1.2.0/24' }), name: 'other' };
    expect(tryAdd(fs, a, 'x')).toEqual(['10.1.2.2/24']);
    expect(tryAdd(fs, b, 'x')).toEqual(['10.1.2.2/24']);
    del(fs, a, 'x');
    expect(Object.keys(storeFiles(fs, 'other'))).toEqual(['10.1.2.2', 'last_reserved_ip.0', 'lock']);
  });
});

describe('host-local store seen through others', () => {
  it('notices reservations and removals made directly in the directory', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    expect(tryAdd(fs, conf, 'a')).toEqual(['10.1.2.2/24']);
    // A stale reservation left by someone else for container "b": b may not allocate again.
    fs.write(`${DIR}/10.1.2.200`, 'b\r\neth0');
    expect(tryAdd(fs, conf, 'b')).toBe(
      '!failed to allocate for range 0: 10.1.2.200 has been allocated to b, duplicate allocation is not allowed',
    );
    // Someone removes a's file: a is gone for CHECK and may allocate again.
    fs.remove(`${DIR}/10.1.2.2`);
    expect(check(fs, conf, 'a')).toBe('host-local: Failed to find address added by container a');
    expect(tryAdd(fs, conf, 'a')).toEqual(['10.1.2.3/24']);
  });

  it('behaves the same on a NodeFs that cannot report changes', () => {
    const mem = new MemFs();
    // Only the NodeFs interface: every lookup re-reads the directory.
    const plain: NodeFs = {
      read: (p) => mem.read(p),
      write: (p, d) => mem.write(p, d),
      remove: (p) => mem.remove(p),
      list: (d) => mem.list(d),
      exists: (p) => mem.exists(p),
    };
    const ref = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/28' });
    const rng = new Rng(7);
    const live: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (live.length > 0 && rng.int(0, 2) === 0) {
        const id = live.splice(rng.int(0, live.length - 1), 1)[0]!;
        del(plain, conf, id);
        del(ref, conf, id);
      } else {
        const id = `p${i}`;
        const got = tryAdd(plain, conf, id);
        expect(got).toEqual(tryAdd(ref, conf, id));
        if (typeof got !== 'string') live.push(id);
      }
    }
    expect(mem.dump()).toEqual(ref.dump());
  });
});

describe('host-local determinism and registry', () => {
  function churn(seed: number): { results: (string[] | string)[]; files: Record<string, string> } {
    const fs = new MemFs();
    const conf = mkConf({ ranges: [[{ subnet: '10.0.0.0/28' }, { subnet: '10.0.1.0/29' }]] });
    const rng = new Rng(seed);
    const live: string[] = [];
    const results: (string[] | string)[] = [];
    for (let i = 0; i < 200; i++) {
      if (live.length > 0 && rng.int(0, 1) === 0) del(fs, conf, live.splice(rng.int(0, live.length - 1), 1)[0]!);
      else {
        const r = tryAdd(fs, conf, `pod-${i}`);
        results.push(r);
        if (typeof r !== 'string') live.push(`pod-${i}`);
      }
    }
    return { results, files: fs.dump() };
  }

  it('gives identical results and files for the same sequence', () => {
    const a = churn(42);
    expect(churn(42)).toEqual(a);
    // Never network, broadcast or gateway of either range.
    const handed = a.results.flatMap((r) => (typeof r === 'string' ? [] : r));
    expect(handed.length).toBeGreaterThan(50);
    for (const ip of handed) expect(ip).not.toMatch(/^10\.0\.0\.(0|1|15)\/28$|^10\.0\.1\.(0|1|7)\/29$/);
    expect(a.results.some((r) => typeof r === 'string')).toBe(true);
  });

  it('registers host-local by type and refuses a different plugin under the same name', () => {
    expect(ipamTypes()).toContain('host-local');
    const hl = findIpam('host-local')!;
    // An IPAM plugin also fits where a main plugin is expected (full RuntimeInputs and PluginEnv).
    const asPlugin: Plugin = hl;
    expect(asPlugin.type).toBe('host-local');
    expect(findIpam('dhcp')).toBeUndefined();
    registerIpam(hl);
    const fake: IpamPlugin = { type: 'host-local', add: hl.add, del: hl.del, check: hl.check };
    expect(() => registerIpam(fake)).toThrow('IPAM plugin type "host-local" is already registered');
  });
});
