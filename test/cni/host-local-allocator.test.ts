// host-local allocation: the round-robin walk from last_reserved_ip.N, exclusion of network, broadcast and gateway,
// rangeStart/rangeEnd, wrapping across the ranges of a set, one address per range set, requested addresses and
// their refusals, exhaustion, duplicate ADDs, and rollback. Each case names the reference behaviour it checks
// (containernetworking/plugins host-local allocator_test.go and host_local_test.go); the cases are our own.

import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { IpAllocator, RangeIter } from '../../src/cni/ipam/host-local/allocator.js';
import { loadIpamConfig } from '../../src/cni/ipam/host-local/config.js';
import type { RangeSet } from '../../src/cni/ipam/host-local/range.js';
import { DiskStore } from '../../src/cni/ipam/host-local/store.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/addr.js';
import { add, del, mkConf, storeFiles, tryAdd } from './host-local-harness.js';

const DIR = '/var/lib/cni/networks/cbr0';

function rangeSet(subnets: string[]): RangeSet {
  return loadIpamConfig(mkConf({ ranges: [subnets.map((subnet) => ({ subnet }))] }), {}).ranges[0]!;
}

/** Like the reference's fake store: addresses already taken and the last reserved address of set 0. */
function seeded(taken: string[], lastIp?: string): MemFs {
  const fs = new MemFs();
  for (const a of taken) fs.write(`${DIR}/${a}`, `other\r\neth0`);
  if (lastIp !== undefined) fs.write(`${DIR}/last_reserved_ip.0`, lastIp);
  return fs;
}

function walk(set: RangeSet, last: string | null): string[] {
  const it = new RangeIter(set, last === null ? null : parseIpv4(last));
  const out: string[] = [];
  for (let c = it.next(); c !== null; c = it.next()) out.push(formatIpv4(c.address));
  return out;
}

describe('host-local RangeIter', () => {
  const set = rangeSet(['192.168.1.0/29']);

  // allocator_test "should loop correctly from the beginning": start at rangeStart, skip the gateway
  it('walks from the start when nothing was reserved', () => {
    expect(walk(set, null)).toEqual(['192.168.1.2', '192.168.1.3', '192.168.1.4', '192.168.1.5', '192.168.1.6']);
  });

  // "should loop correctly from the end": after the last address of the set comes the first
  it('wraps when the last reserved address is the end of the range', () => {
    expect(walk(set, '192.168.1.6')).toEqual([
      '192.168.1.2',
      '192.168.1.3',
      '192.168.1.4',
      '192.168.1.5',
      '192.168.1.6',
    ]);
  });

  // "should loop correctly from the middle": the last reserved address itself comes last
  it('starts after a last reserved address in the middle and ends on it', () => {
    expect(walk(set, '192.168.1.3')).toEqual([
      '192.168.1.4',
      '192.168.1.5',
      '192.168.1.6',
      '192.168.1.2',
      '192.168.1.3',
    ]);
  });

  // "should use the first IP of next range as startIP after Next" (last reserved at the end of one of several ranges)
  it('continues in the next range of the set and wraps to the first', () => {
    const two = rangeSet(['10.0.0.0/29', '10.0.1.0/30']);
    expect(walk(two, '10.0.0.6')).toEqual(['10.0.1.2', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    // A last reserved address outside the set is ignored: the walk starts at the beginning.
    expect(walk(two, '10.9.9.9')).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.1.2']);
  });

  it('skips a gateway placed inside the range, and offers network+1 when the gateway is elsewhere', () => {
    const gw = loadIpamConfig(mkConf({ subnet: '10.0.0.0/29', gateway: '10.0.0.3' }), {}).ranges[0]!;
    expect(walk(gw, null)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(walk(gw, '10.0.0.2')).toEqual(['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.1', '10.0.0.2']);
  });

  it('has nothing to offer when the only address of a range is its gateway', () => {
    const only = loadIpamConfig(
      mkConf({ subnet: '10.0.0.0/29', rangeStart: '10.0.0.4', rangeEnd: '10.0.0.4', gateway: '10.0.0.4' }),
      {},
    ).ranges[0]!;
    expect(walk(only, null)).toEqual([]);
  });
});

describe('host-local allocator against a seeded store', () => {
  // allocator_test "should allocate ips in round robin" (IPv4 cases), rephrased with our addresses
  it.each<[string, string[], string[], string | undefined, string]>([
    ['fresh start', ['10.0.0.0/29'], [], undefined, '10.0.0.2'],
    ['fresh /30: the one address besides the gateway', ['10.0.0.0/30'], [], undefined, '10.0.0.2'],
    ['first address taken', ['10.0.0.0/29'], ['10.0.0.2'], undefined, '10.0.0.3'],
    ['after the last reserved', ['10.0.0.0/29'], [], '10.0.0.5', '10.0.0.6'],
    ['skips taken after the last reserved', ['10.0.0.0/29'], ['10.0.0.4', '10.0.0.5'], '10.0.0.3', '10.0.0.6'],
    ['round robin to the beginning', ['10.0.0.0/29'], ['10.0.0.6'], '10.0.0.5', '10.0.0.2'],
    ['last reserved outside the set', ['10.0.0.0/29'], ['10.0.0.2'], '10.0.0.128', '10.0.0.3'],
    ['last reserved unreadable', ['10.0.0.0/29'], [], 'garbage', '10.0.0.2'],
    [
      'full but the last reserved: take it again',
      ['10.0.0.0/29'],
      ['10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6'],
      '10.0.0.3',
      '10.0.0.3',
    ],
    ['several ranges, fresh', ['10.0.0.0/30', '10.0.1.0/30'], [], undefined, '10.0.0.2'],
    ['advance to the next range', ['10.0.0.0/30', '10.0.1.0/30'], [], '10.0.0.2', '10.0.1.2'],
    ['roll over to the first range', ['10.0.0.0/30', '10.0.1.0/30', '10.0.2.0/30'], [], '10.0.2.2', '10.0.0.2'],
  ])('%s', (_name, subnets, taken, lastIp, want) => {
    const fs = seeded(taken, lastIp);
    const got = new IpAllocator(rangeSet(subnets), new DiskStore(fs, 'cbr0'), 0).get('ID', 'eth0', null);
    expect(formatIpv4(got.address)).toBe(want);
    expect(fs.read(`${DIR}/last_reserved_ip.0`)).toBe(want);
    expect(fs.read(`${DIR}/${want}`)).toBe('ID\r\neth0');
  });

  // allocator_test "when out of ips / returns a meaningful error"
  it.each<[string[], string[], string]>([
    [['10.0.0.0/30'], ['10.0.0.2'], '10.0.0.1-10.0.0.2'],
    [['10.0.0.0/29'], ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'], '10.0.0.1-10.0.0.6'],
    [['10.0.0.0/30', '10.0.1.0/30'], ['10.0.0.2', '10.0.1.2'], '10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.2'],
  ])('exhausted %j', (subnets, taken, setText) => {
    const fs = seeded(taken);
    const alloc = new IpAllocator(rangeSet(subnets), new DiskStore(fs, 'cbr0'), 0);
    expect(() => alloc.get('ID', 'eth0', null)).toThrow(`no IP addresses available in range set: ${setText}`);
    expect(fs.exists(`${DIR}/last_reserved_ip.0`)).toBe(false);
  });

  // "must fail when the requested IP is allocated" (message quoted by the reference test), after RangeEnd, gateway
  it('honours or refuses a requested address with the reference messages', () => {
    const fs = new MemFs();
    const alloc = new IpAllocator(rangeSet(['192.168.1.0/29']), new DiskStore(fs, 'cbr0'), 0);
    expect(formatIpv4(alloc.get('ID', 'eth0', parseIpv4('192.168.1.5')).address)).toBe('192.168.1.5');
    expect(() => alloc.get('ID', 'eth0', parseIpv4('192.168.1.5'))).toThrow(
      'requested IP address 192.168.1.5 is not available in range set 192.168.1.1-192.168.1.6',
    );
    expect(() => alloc.get('ID2', 'eth0', parseIpv4('192.168.1.1'))).toThrow(
      "requested ip 192.168.1.1 is subnet's gateway",
    );
    expect(() => alloc.get('ID2', 'eth0', parseIpv4('192.168.1.7'))).toThrow(
      '192.168.1.7 not in range set 192.168.1.1-192.168.1.6',
    );
    // A requested address is recorded as last reserved, so the walk continues after it.
    expect(formatIpv4(alloc.get('ID3', 'eth0', null).address)).toBe('192.168.1.6');
  });
});

describe('host-local ADD/DEL sequences', () => {
  // allocator_test "should not allocate the broadcast address"; "should allocate in a round-robin fashion"
  it('hands out network+2 .. broadcast-1 round-robin, then fails; a released address waits its turn', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.0.0.0/29' });
    const steps: [op: 'add' | 'del', id: string, want?: string][] = [
      ['add', 'a', '10.0.0.2/29'],
      ['add', 'b', '10.0.0.3/29'],
      ['add', 'c', '10.0.0.4/29'],
      ['del', 'b'],
      ['add', 'd', '10.0.0.5/29'],
      ['add', 'e', '10.0.0.6/29'],
      // wrapped: .2 is taken, .3 (released by b) is next
      ['add', 'f', '10.0.0.3/29'],
      ['add', 'g', '!failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.6'],
      ['del', 'a'],
      ['del', 'c'],
      // continues after .3, the last reserved
      ['add', 'h', '10.0.0.4/29'],
      ['add', 'i', '10.0.0.2/29'],
    ];
    for (const [op, id, want] of steps) {
      if (op === 'del') del(fs, conf, id);
      else {
        const got = tryAdd(fs, conf, id);
        expect(typeof got === 'string' ? got : got[0], `${op} ${id}`).toBe(want);
      }
    }
    expect(storeFiles(fs)).toEqual({
      '10.0.0.2': 'i\r\neth0',
      '10.0.0.3': 'f\r\neth0',
      '10.0.0.4': 'h\r\neth0',
      '10.0.0.5': 'd\r\neth0',
      '10.0.0.6': 'e\r\neth0',
      'last_reserved_ip.0': '10.0.0.2',
      lock: '',
    });
  });

  it('respects rangeStart and rangeEnd', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.10.0.0/24', rangeStart: '10.10.0.10', rangeEnd: '10.10.0.12' });
    const got = ['a', 'b', 'c', 'd'].map((id) => tryAdd(fs, conf, id));
    expect(got).toEqual([
      ['10.10.0.10/24'],
      ['10.10.0.11/24'],
      ['10.10.0.12/24'],
      '!failed to allocate for range 0: no IP addresses available in range set: 10.10.0.10-10.10.0.12',
    ]);
  });

  it('wraps across the ranges of one set', () => {
    const fs = new MemFs();
    const conf = mkConf({ ranges: [[{ subnet: '10.0.0.0/30' }, { subnet: '10.0.1.0/30' }]] });
    expect(tryAdd(fs, conf, 'a')).toEqual(['10.0.0.2/30']);
    expect(tryAdd(fs, conf, 'b')).toEqual(['10.0.1.2/30']);
    del(fs, conf, 'a');
    expect(tryAdd(fs, conf, 'c')).toEqual(['10.0.0.2/30']);
    expect(tryAdd(fs, conf, 'd')).toBe(
      '!failed to allocate for range 0: no IP addresses available in range set: 10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.2',
    );
  });

  // host_local_test "allocates and releases addresses with ADD/DEL" (IPv4 only): one address per range set,
  // gateways, routes, dns from resolvConf, store files and last_reserved_ip.N per set
  it('gives one address per range set with its gateway, the routes and the dns', () => {
    const fs = new MemFs();
    fs.write(
      '/etc/cni/resolv.conf',
      '# test\nnameserver 192.0.2.3\nsearch svc.cluster.local cluster.local\noptions ndots:5\n',
    );
    const conf = mkConf({
      dataDir: '/run/ipam',
      resolvConf: '/etc/cni/resolv.conf',
      ranges: [
        [{ subnet: '10.1.2.0/24' }, { subnet: '10.2.2.0/24' }],
        [{ subnet: '10.3.0.0/16', gateway: '10.3.255.254' }],
      ],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '1.1.1.1' }],
    });
    const r = add(fs, conf, 'dummy');
    expect(r).toEqual({
      cniVersion: '1.0.0',
      ips: [
        { address: '10.1.2.2/24', gateway: '10.1.2.1' },
        { address: '10.3.0.1/16', gateway: '10.3.255.254' },
      ],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '1.1.1.1' }],
      dns: { nameservers: ['192.0.2.3'], search: ['svc.cluster.local', 'cluster.local'], options: ['ndots:5'] },
    });
    expect(storeFiles(fs, 'cbr0', '/run/ipam')).toEqual({
      '10.1.2.2': 'dummy\r\neth0',
      '10.3.0.1': 'dummy\r\neth0',
      'last_reserved_ip.0': '10.1.2.2',
      'last_reserved_ip.1': '10.3.0.1',
      lock: '',
    });
    del(fs, conf, 'dummy');
    expect(storeFiles(fs, 'cbr0', '/run/ipam')).toEqual({
      'last_reserved_ip.0': '10.1.2.2',
      'last_reserved_ip.1': '10.3.0.1',
      lock: '',
    });
  });

  it('fails ADD when resolvConf is missing from the node', () => {
    const conf = mkConf({ subnet: '10.1.2.0/24', resolvConf: '/etc/missing.conf' });
    expect(tryAdd(new MemFs(), conf, 'a')).toBe('!open /etc/missing.conf: no such file or directory');
  });

  // host_local_test "allocates and releases addresses on specific interface with ADD/DEL"
  it('releases only the interface named on DEL', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    expect(tryAdd(fs, conf, { id: 'pod', ifName: 'eth0' })).toEqual(['10.1.2.2/24']);
    expect(tryAdd(fs, conf, { id: 'pod', ifName: 'net1' })).toEqual(['10.1.2.3/24']);
    del(fs, conf, { id: 'pod', ifName: 'eth0' });
    expect(storeFiles(fs)['10.1.2.2']).toBeUndefined();
    expect(storeFiles(fs)['10.1.2.3']).toBe('pod\r\nnet1');
    // Another container's DEL on the same interface name touches nothing.
    del(fs, conf, { id: 'other', ifName: 'net1' });
    expect(storeFiles(fs)['10.1.2.3']).toBe('pod\r\nnet1');
  });

  // host_local_test "repeat allocating addresses on specific interface for same container ID with ADD"
  it('refuses a second ADD for the same container and interface', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    expect(tryAdd(fs, conf, 'dummy')).toEqual(['10.1.2.2/24']);
    expect(tryAdd(fs, conf, 'dummy')).toBe(
      '!failed to allocate for range 0: 10.1.2.2 has been allocated to dummy, duplicate allocation is not allowed',
    );
    expect(tryAdd(fs, conf, 'dummy1')).toEqual(['10.1.2.3/24']);
    expect(tryAdd(fs, conf, 'dummy')).toMatch(/duplicate allocation is not allowed$/);
    del(fs, conf, 'dummy');
    del(fs, conf, 'dummy1');
    expect(Object.keys(storeFiles(fs))).toEqual(['last_reserved_ip.0', 'lock']);
  });

  // host_local_test "verify DEL works on backwards compatible allocate": a file holding only the container ID
  it('releases files written by old versions (container ID only) when nothing matches the interface', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    add(fs, conf, 'dummy');
    fs.write(`${DIR}/10.1.2.2`, 'dummy');
    del(fs, conf, 'dummy');
    expect(fs.exists(`${DIR}/10.1.2.2`)).toBe(false);
  });

  // host_local_test "doesn't error when passed an unknown ID on DEL"
  it('accepts DEL of an unknown container', () => {
    const fs = new MemFs();
    expect(() => del(fs, mkConf({ subnet: '10.1.2.0/24' }), 'nobody')).not.toThrow();
    expect(storeFiles(fs)).toEqual({ lock: '' });
  });

  // host_local_test "ignores whitespace in disk files"
  it('trims the container ID when writing and matching', () => {
    const fs = new MemFs();
    const conf = mkConf({ subnet: '10.1.2.0/24' });
    add(fs, conf, '   dummy\n ');
    expect(storeFiles(fs)['10.1.2.2']).toBe('dummy\r\neth0');
    del(fs, conf, '   dummy\n ');
    expect(storeFiles(fs)['10.1.2.2']).toBeUndefined();
  });
});
