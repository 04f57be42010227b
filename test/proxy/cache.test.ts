// What the proxier remembers between syncs must never show in what it writes: after any sequence of Service and
// EndpointSlice events, a partial sync's payload agrees with a fresh proxier's full sync of the same objects
// (identical filter table and top-level nat chains, identical rules in every service chain it rewrites, `-X` only
// for chains a fresh proxier would not create), and a full sync is byte for byte the fresh one plus stale-chain
// deletions. Also the pieces the caches rest on: logged maps, chain names lent to updated endpoint lists, the
// sloppy IPv4 parser's canonical text.

import { describe, expect, it } from 'vitest';
import { type EndpointInfo, endpointsFromSlices } from '../../src/proxy/endpoint.js';
import { canonicalIp, parseIpSloppy } from '../../src/proxy/ip.js';
import { LoggedMap } from '../../src/proxy/loggedmap.js';
import type { EndpointSlice, Service } from '../../src/proxy/model.js';
import { Proxier, type ProxierOptions, type SyncResult } from '../../src/proxy/proxier.js';
import { generateRuleset } from '../../src/proxy/ruleset.js';
import { GROUP_SIZE, RulesetCache } from '../../src/proxy/rulesetcache.js';
import type { ServicePortInfo } from '../../src/proxy/serviceport.js';
import { Rng } from '../../src/sim/rng.js';
import { makeService, makeSlice, TEST_NODE_NAME } from './helpers.js';

const OPTS: ProxierOptions = {
  nodeName: TEST_NODE_NAME,
  nodeIPs: ['192.168.0.2'],
  clusterCIDR: '10.0.0.0/8',
  masqueradeMark: '0x4000',
  interfaceAddrs: ['127.0.0.1', '192.168.0.2'],
  nodePortAddresses: ['192.168.0.0/16'],
};

/** The Services and slices a cluster holds now, fed to a proxier as events. */
class World {
  readonly services = new Map<string, Service>();
  readonly slices = new Map<string, EndpointSlice>();
  now = 0;
  readonly proxier = new Proxier({ ...OPTS, now: () => this.now });

  setService(s: Service): void {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const old = this.services.get(key);
    if (old) this.proxier.onServiceUpdate(old, s);
    else this.proxier.onServiceAdd(s);
    this.services.set(key, s);
  }

  deleteService(key: string): Service | undefined {
    const old = this.services.get(key);
    if (old) this.proxier.onServiceDelete(old);
    this.services.delete(key);
    return old;
  }

  setSlice(s: EndpointSlice): void {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    const old = this.slices.get(key);
    if (old) this.proxier.onEndpointSliceUpdate(old, s);
    else this.proxier.onEndpointSliceAdd(s);
    this.slices.set(key, s);
  }

  deleteSlice(key: string): void {
    const old = this.slices.get(key);
    if (old) this.proxier.onEndpointSliceDelete(old);
    this.slices.delete(key);
  }

  /** A full sync of the same objects by a proxier that never saw anything else. */
  fresh(): SyncResult {
    const p = new Proxier({ ...OPTS, now: () => this.now });
    for (const s of this.services.values()) p.onServiceAdd(s);
    for (const s of this.slices.values()) p.onEndpointSliceAdd(s);
    return p.syncProxyRules();
  }

  /** Service chains the payloads so far have created and not deleted. */
  readonly existing = new Set<string>();

  /** Syncs and checks the result against a fresh proxier's full sync. */
  sync(): SyncResult {
    const r = this.proxier.syncProxyRules();
    const fresh = this.fresh();
    expectAgrees(r, fresh);
    // Stale chains go all together, on every sync below 1000 endpoints, at most once per sync period above.
    const stale = [...this.existing].filter((c) => !fresh.activeNatChains.has(c)).sort();
    if (!r.largeClusterMode || r.deletedChains.length > 0) expect([...r.deletedChains].sort()).toEqual(stale);
    for (const line of r.payload.split('\n')) if (line.startsWith(':KUBE-')) this.existing.add(line.slice(1, -8));
    for (const c of r.deletedChains) this.existing.delete(c);
    for (const c of [...this.existing]) if (!isServiceChain(c)) this.existing.delete(c);
    return r;
  }
}

type Chains = Map<string, string[]>;

/** Per table: rules by chain, declared chains (in order), deleted chains. */
function tables(payload: string): { filter: Chains; nat: Chains; declared: string[]; deleted: string[] } {
  const filter: Chains = new Map();
  const nat: Chains = new Map();
  const declared: string[] = [];
  const deleted: string[] = [];
  let t = filter;
  for (const line of payload.split('\n')) {
    if (line === '*nat') t = nat;
    else if (line.startsWith(':')) {
      const c = line.slice(1, line.indexOf(' '));
      t.set(c, []);
      if (t === nat) declared.push(c);
    } else if (line.startsWith('-A ')) {
      const rules = t.get(line.split(' ')[1]!);
      if (rules === undefined) throw new Error(`rule for an undeclared chain: ${line}`);
      rules.push(line);
    } else if (line.startsWith('-X ')) {
      t.delete(line.slice(3));
      deleted.push(line.slice(3));
      declared.splice(declared.indexOf(line.slice(3)), 1);
    }
  }
  return { filter, nat, declared, deleted };
}

const isServiceChain = (c: string) => /^KUBE-(SVC|SVL|SEP|FW|EXT)-/.test(c);

function withoutDeletions(payload: string, deleted: readonly string[]): string {
  const gone = new Set(deleted.flatMap((c) => [`:${c} - [0:0]`, `-X ${c}`]));
  return payload
    .split('\n')
    .filter((l) => !gone.has(l))
    .join('\n');
}

function expectAgrees(r: SyncResult, fresh: SyncResult): void {
  expect(r.error).toBeNull();
  expect(r.totalEndpoints).toBe(fresh.totalEndpoints);
  expect(r.largeClusterMode).toBe(fresh.largeClusterMode);
  expect(r.filterRules).toBe(fresh.filterRules);
  expect(r.noLocalEndpointsInternal).toBe(fresh.noLocalEndpointsInternal);
  expect(r.noLocalEndpointsExternal).toBe(fresh.noLocalEndpointsExternal);
  expect([...r.activeNatChains].sort()).toEqual([...fresh.activeNatChains].sort());
  expect(r.natRules + r.skippedNatRules).toBe(fresh.natRules);
  for (const c of r.deletedChains) expect(fresh.activeNatChains.has(c)).toBe(false);
  if (r.fullSync) {
    expect(r.skippedNatRules).toBe(0);
    expect(withoutDeletions(r.payload, r.deletedChains)).toBe(fresh.payload);
    return;
  }
  const got = tables(r.payload);
  const want = tables(fresh.payload);
  expect(got.filter).toEqual(want.filter);
  expect(got.deleted.sort()).toEqual([...r.deletedChains].sort());
  for (const c of got.declared) {
    if (!isServiceChain(c)) expect(got.nat.get(c)).toEqual(want.nat.get(c));
    else expect({ chain: c, rules: got.nat.get(c) }).toEqual({ chain: c, rules: want.nat.get(c) });
  }
  for (const c of want.declared) if (!isServiceChain(c)) expect(got.declared).toContain(c);
}

const ip = (n: number) => `10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;

function service(i: number, variant = 0): Service {
  return makeService('ns', `svc-${String(i).padStart(4, '0')}`, (s) => {
    s.spec.clusterIP = `172.30.${i >> 8}.${i & 255}`;
    s.spec.ports = [{ name: 'http', port: 80, protocol: 'TCP' }];
    if (variant % 3 === 1) s.spec.ports.push({ name: 'dns', port: 53, protocol: 'UDP' });
    if (variant % 3 === 2) s.spec.ports = [{ name: 'web', port: 8080, protocol: 'TCP' }];
    if (i % 7 === 0) {
      s.spec.type = 'NodePort';
      for (const p of s.spec.ports) p.nodePort = 30000 + (i % 2000);
    }
    if (i % 11 === 0) s.spec.sessionAffinity = 'ClientIP';
    if (i % 13 === 0) s.spec.internalTrafficPolicy = 'Local';
  });
}

function slice(i: number, part: number, eps: readonly number[]): EndpointSlice {
  return makeSlice('ns', `svc-${String(i).padStart(4, '0')}`, part, (e) => {
    e.endpoints = eps.map((n) => ({ addresses: [ip(n)], nodeName: n % 5 === 0 ? TEST_NODE_NAME : 'other' }));
    e.ports = [
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'dns', port: 5353, protocol: 'UDP' },
      { name: 'web', port: 9090, protocol: 'TCP' },
    ];
  });
}

describe('partial syncs from cached state agree with a fresh proxier', () => {
  it('across port changes, endpoints moving between slices, deletions, re-adds and large-cluster mode', () => {
    const w = new World();
    const rng = new Rng(7);
    const n = 3 * GROUP_SIZE;
    // 8 endpoints each to start with: large-cluster mode (over 1000) comes and goes as endpoints are added and
    // Services deleted.
    for (let i = 0; i < n; i += 2) {
      w.setService(service(i));
      w.setSlice(slice(i, 1, [8 * i, 8 * i + 1, 8 * i + 2, 8 * i + 3]));
      w.setSlice(slice(i, 2, [8 * i + 4, 8 * i + 5, 8 * i + 6, 8 * i + 7]));
    }
    expect(w.sync().fullSync).toBe(true);
    const modes = new Set<boolean>();
    const deleted: Service[] = [];
    let next = 100_000;
    for (let step = 0; step < 120; step++) {
      const i = 2 * rng.int(0, n / 2 - 1);
      switch (rng.int(0, 7)) {
        case 0: // the Service's ports change (one added, or renamed)
          w.setService(service(i, rng.int(1, 2)));
          break;
        case 1: {
          // an endpoint moves from one slice to the other: first it shows up in both, then leaves the first
          const a = w.slices.get(`ns/svc-${String(i).padStart(4, '0')}-1`);
          const moved = a?.endpoints[0];
          if (a && moved) {
            const b = w.slices.get(`ns/svc-${String(i).padStart(4, '0')}-2`)!;
            w.setSlice({ ...b, endpoints: [...b.endpoints, moved] });
            if (rng.int(0, 1) === 0) w.sync();
            w.setSlice({ ...a, endpoints: a.endpoints.slice(1) });
          }
          break;
        }
        case 2: // more endpoints, towards large-cluster mode
          w.setSlice(
            slice(
              i,
              3,
              Array.from({ length: rng.int(5, 30) }, () => next++),
            ),
          );
          break;
        case 3: {
          const old = w.deleteService(`ns/svc-${String(i).padStart(4, '0')}`);
          if (old) deleted.push(old);
          break;
        }
        case 4: // a deleted Service comes back (the same object)
          if (deleted.length > 0) w.setService(deleted.splice(rng.int(0, deleted.length - 1), 1)[0]!);
          break;
        case 5: // a new Service sorting between existing ones, with endpoints
          w.setService(service(i + 1));
          w.setSlice(slice(i + 1, 1, [next++, next++]));
          break;
        case 6:
          if (rng.int(0, 1) === 0) w.deleteSlice(`ns/svc-${String(i).padStart(4, '0')}-${rng.int(1, 3)}`);
          else w.setSlice(slice(i, 1, [next++, next++, next++, next++]));
          break;
        default:
          w.now += rng.int(0, 1) === 0 ? 1e9 : 31e9;
      }
      if (rng.int(0, 2) === 0) modes.add(w.sync().largeClusterMode);
    }
    w.sync();
    expect([...modes].sort()).toEqual([false, true]);
    w.proxier.forceFullSync();
    const full = w.proxier.syncProxyRules();
    expect(full.fullSync).toBe(true);
    expect(withoutDeletions(full.payload, full.deletedChains)).toBe(w.fresh().payload);
  });

  it('a partial sync after a Service is deleted removes its chains; the next full sync is a fresh one', () => {
    const w = new World();
    for (let i = 0; i < 2 * GROUP_SIZE + 5; i++) {
      w.setService(service(i));
      w.setSlice(slice(i, 1, [i]));
    }
    w.sync();
    // A first partial sync: from here on the chains in use are kept up to date rather than collected anew.
    w.setSlice(slice(3, 1, [3, 1003]));
    w.sync();
    const gone = w.services.get('ns/svc-0070')!;
    w.deleteService('ns/svc-0070');
    const r = w.sync();
    expect(r.fullSync).toBe(false);
    const before = w.fresh();
    expect(r.deletedChains.length).toBeGreaterThanOrEqual(2);
    for (const c of r.deletedChains) expect(r.payload).toContain(`-X ${c}`);
    expect(r.payload).not.toContain('ns/svc-0070:http');
    // Re-added unchanged: its chains come back with the same names.
    w.setService(gone);
    const back = w.sync();
    expect(back.payload).toContain('"ns/svc-0070:http cluster IP"');
    expect(back.deletedChains).toEqual([]);
    for (const c of r.deletedChains) expect(back.activeNatChains.has(c)).toBe(true);
    expect(before.activeNatChains.size).toBeLessThan(back.activeNatChains.size);
    w.proxier.forceFullSync();
    expect(w.proxier.syncProxyRules().payload).toBe(w.fresh().payload);
  });

  it('writes every Service again when its ports change, in name order among unchanged ones', () => {
    const w = new World();
    for (let i = 0; i < 3 * GROUP_SIZE; i += 3) {
      w.setService(service(i));
      w.setSlice(slice(i, 1, [i, i + 1]));
    }
    w.sync();
    w.setService(service(30, 1));
    w.setService(service(31));
    w.setSlice(slice(31, 1, [5000]));
    const r = w.sync();
    expect(r.fullSync).toBe(false);
    const nat = r.payload.slice(r.payload.indexOf('*nat'));
    const services = nat.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES -m comment --comment "ns/'));
    const names = services.map((l) => l.split('"')[1]!);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('ns/svc-0030:dns cluster IP');
    expect(names).toContain('ns/svc-0031:http cluster IP');
  });

  it('stays right when someone else takes the maps logs', () => {
    const w = new World();
    for (let i = 0; i < 40; i++) {
      w.setService(service(i));
      w.setSlice(slice(i, 1, [i]));
    }
    w.sync();
    w.setSlice(slice(3, 1, [900, 901]));
    w.deleteService('ns/svc-0004');
    w.sync();
    w.setSlice(slice(5, 1, [902]));
    w.setService(service(6, 2));
    w.deleteService('ns/svc-0007');
    // The change trackers apply at sync time; a stolen log after that is what the cache must survive.
    const sync = w.proxier.syncProxyRules.bind(w.proxier);
    (w.proxier as { syncProxyRules: () => SyncResult }).syncProxyRules = () => {
      (w.proxier.services as LoggedMap<unknown>).take();
      (w.proxier.endpoints as LoggedMap<unknown>).take();
      return sync();
    };
    w.sync();
  });

  it('keeps what an earlier sync reported about its chains', () => {
    const w = new World();
    w.setService(service(1));
    w.setSlice(slice(1, 1, [1, 2]));
    const first = w.sync();
    const chains = [...first.activeNatChains].sort();
    w.deleteService('ns/svc-0001');
    const second = w.sync();
    expect(second.activeNatChains.size).toBe(0);
    expect([...first.activeNatChains].sort()).toEqual(chains);
    expect(chains.length).toBe(3);
  });
});

describe('generateRuleset', () => {
  it('with a cache rewrites a Service named as changed even when its maps were not touched', () => {
    const w = new World();
    for (let i = 0; i < 3; i++) {
      w.setService(service(i));
      w.setSlice(slice(i, 1, [i]));
    }
    w.sync();
    const cache = new RulesetCache();
    const services = new LoggedMap<ServicePortInfo>();
    const endpoints = new LoggedMap<EndpointInfo[]>();
    for (const [k, v] of w.proxier.services) services.set(k, v);
    for (const [k, v] of w.proxier.endpoints) endpoints.set(k, v);
    const input = (changed: string[]) => ({
      services,
      endpoints,
      fullSync: false,
      changed: new Set(changed),
      existingNatChains: null,
      nodePortIPs: [],
      cache,
    });
    const sep = (p: string) => p.split('\n').filter((l) => l.startsWith(':KUBE-SEP-')).length;
    expect(sep(generateRuleset(w.proxier.config, input([])).payload)).toBe(0);
    expect(sep(generateRuleset(w.proxier.config, input([])).payload)).toBe(0);
    expect(sep(generateRuleset(w.proxier.config, input(['ns/svc-0001'])).payload)).toBe(1);
    const again = generateRuleset(w.proxier.config, input(['ns/svc-0000', 'ns/svc-0002']));
    expect(sep(again.payload)).toBe(2);
    const full = generateRuleset(w.proxier.config, { ...input([]), fullSync: true, cache: undefined });
    expect(again.natRules + again.skippedNatRules).toBe(full.natRules);
    expect(again.skippedNatRules).toBeGreaterThan(0);
  });

  it('without a cache writes the same full payload as the proxier', () => {
    const w = new World();
    for (let i = 0; i < 50; i++) {
      w.setService(service(i, i));
      w.setSlice(slice(i, 1, [i, i + 100]));
    }
    const r = w.sync();
    const g = generateRuleset(w.proxier.config, {
      services: w.proxier.services,
      endpoints: w.proxier.endpoints,
      fullSync: true,
      changed: new Set(),
      existingNatChains: null,
      nodePortIPs: ['192.168.0.2'],
    });
    expect(g.payload).toBe(r.payload);
    expect(g.activeNatChains).toEqual(r.activeNatChains);
  });
});

describe('LoggedMap', () => {
  it('logs the keys set or deleted since the last take', () => {
    const m = new LoggedMap<number>();
    m.set('a', 1);
    m.set('b', 2);
    expect([...m.take()]).toEqual(['a', 'b']);
    expect(m.takes).toBe(1);
    m.delete('a');
    m.set('c', 3);
    m.get('b');
    expect([...m.take()]).toEqual(['a', 'c']);
    m.clear();
    expect([...m.take()]).toEqual(['b', 'c']);
    expect(m.size).toBe(0);
    expect(m.take().size).toBe(0);
  });
});

describe('endpoint lists', () => {
  it('lend the chain names of endpoints an update keeps, and name new ones as from scratch', () => {
    const one = slice(1, 1, [1, 2, 3]);
    const prev = endpointsFromSlices('ns/svc-0001', [one], TEST_NODE_NAME);
    const moved = [slice(1, 1, [2]), slice(1, 2, [3, 4, 1])];
    const lent = endpointsFromSlices('ns/svc-0001', moved, TEST_NODE_NAME, prev);
    const scratch = endpointsFromSlices('ns/svc-0001', moved, TEST_NODE_NAME);
    expect(lent).toEqual(scratch);
    const http = lent.get('ns/svc-0001\u0000http\u0000TCP')!;
    expect(http.map((e) => e.endpoint)).toEqual(['10.1.0.1:8080', '10.1.0.2:8080', '10.1.0.3:8080', '10.1.0.4:8080']);
    const before = new Map(prev.get('ns/svc-0001\u0000http\u0000TCP')!.map((e) => [e.endpoint, e.chain]));
    for (const e of http) if (before.has(e.endpoint)) expect(e.chain).toBe(before.get(e.endpoint));
  });

  it('keep the first copy of a duplicate unless a later one is local (then the last local one)', () => {
    const mk = (part: number, node: string, ready: boolean) =>
      makeSlice('ns', 'd', part, (e) => {
        e.endpoints = [{ addresses: ['10.9.0.1'], nodeName: node, conditions: { ready } }];
        e.ports = [{ name: 'p', port: 80, protocol: 'TCP' }];
      });
    const pick = (...s: EndpointSlice[]) => [...endpointsFromSlices('ns/d', s, TEST_NODE_NAME).values()][0]!;
    expect(pick(mk(1, 'a', true), mk(2, 'b', false))[0]).toMatchObject({ isLocal: false, ready: true });
    expect(pick(mk(1, 'a', true), mk(2, TEST_NODE_NAME, false), mk(3, TEST_NODE_NAME, true))[0]).toMatchObject({
      isLocal: true,
      ready: true,
    });
    expect(pick(mk(1, TEST_NODE_NAME, false), mk(2, 'b', true))[0]).toMatchObject({ isLocal: true, ready: false });
  });
});

describe('sloppy IPv4 parsing', () => {
  it('accepts one to three digits per octet and prints the canonical form', () => {
    const cases: [string, string | null][] = [
      ['10.0.0.1', '10.0.0.1'],
      ['010.000.000.001', '10.0.0.1'],
      ['192.168.099.022', '192.168.99.22'],
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
      ['256.1.1.1', null],
      ['1.2.3', null],
      ['1.2.3.4.5', null],
      ['1..2.3', null],
      ['.1.2.3', null],
      ['1.2.3.', null],
      ['0001.2.3.4', null],
      [' 1.2.3.4', null],
      ['1.2.3.4 ', null],
      ['1.2.3.x', null],
      ['fd00::1', null],
      ['', null],
    ];
    for (const [text, want] of cases) {
      expect(canonicalIp(text), text).toBe(want);
      expect(parseIpSloppy(text) === null, text).toBe(want === null);
    }
    expect(parseIpSloppy('10.0.0.010')).toBe(0x0a00000a);
  });
});
