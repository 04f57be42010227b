// The proxy's view of Services and EndpointSlices: endpoint lists as upstream's EndpointSliceCache builds them
// (dedup across slices preferring local, string order, conditions' defaults), change tracking and the
// conntrack-cleanup signal (cases of upstream's TestUpdateEndpointsMap), topology hints, and the bookkeeping of
// partial syncs (rules left out are counted like upstream's discarded buffer).

import { describe, expect, it } from 'vitest';
import { EndpointsChangeTracker, type EndpointsMap } from '../../src/proxy/changetracker.js';
import { endpointsFromSlices } from '../../src/proxy/endpoint.js';
import { servicePortKey, servicePorts } from '../../src/proxy/serviceport.js';
import { categorizeEndpoints } from '../../src/proxy/topology.js';
import { addServices, addSlices, fakeProxier, makeService, makeSlice, TEST_NODE_NAME } from './helpers.js';
import { overall } from './overall-input.js';

const udp = (name: string, port: number) => ({ name, port, protocol: 'UDP' as const });

describe('endpoints from slices', () => {
  it('sorts by ip:port text, dedups across slices preferring the local copy, and skips bad entries', () => {
    const a = makeSlice('ns1', 'ep1', 1, (e) => {
      e.endpoints = [{ addresses: ['10.1.1.1'] }, { addresses: ['10.1.1.11'] }, { addresses: [] }];
      e.ports = [udp('p11', 11), { name: 'zero', port: 0 }];
    });
    const b = makeSlice('ns1', 'ep1', 2, (e) => {
      e.endpoints = [{ addresses: ['10.1.1.1'], nodeName: TEST_NODE_NAME }, { addresses: ['fd00::1'] }];
      e.ports = [udp('p11', 11)];
    });
    const m = endpointsFromSlices('ns1/ep1', [a, b], TEST_NODE_NAME);
    const eps = m.get(servicePortKey('ns1', 'ep1', 'p11', 'UDP'))!;
    expect(eps.map((e) => [e.endpoint, e.isLocal])).toEqual([
      ['10.1.1.11:11', false],
      ['10.1.1.1:11', true],
    ]);
    expect(m.size).toBe(1);
    expect(eps[0]).toMatchObject({ ready: true, serving: true, terminating: false });
  });
});

describe('EndpointsChangeTracker (TestUpdateEndpointsMap cases)', () => {
  const slice = (n: number, ips: string[], port: string, num: number) =>
    makeSlice('ns1', 'ep1', n, (e) => {
      e.endpoints = ips.map((a) => ({ addresses: [a] }));
      e.ports = [udp(port, num)];
    });
  const run = (before: ReturnType<typeof slice>[], after: (ReturnType<typeof slice> | null)[]) => {
    const t = new EndpointsChangeTracker(TEST_NODE_NAME);
    const map: EndpointsMap = new Map();
    for (const s of before) t.endpointSliceUpdate(s, false);
    t.apply(map);
    before.forEach((s, i) => {
      const next = after[i];
      if (next === null || next === undefined) t.endpointSliceUpdate(s, true);
      else t.endpointSliceUpdate(next, false);
    });
    const r = t.apply(map);
    const out = [...map.entries()].map(([k, v]) => [k.split('\u0000')[1], v.map((e) => e.endpoint)]);
    return { out, cleanup: r.conntrackCleanupRequired, updated: [...r.updated] };
  };

  it('no change: nothing to apply, no cleanup', () => {
    const s = slice(1, ['10.1.1.1'], 'p11', 11);
    const r = run([s], [s]);
    expect(r).toEqual({ out: [['p11', ['10.1.1.1:11']]], cleanup: false, updated: [] });
  });

  it('rename a port', () => {
    const r = run([slice(1, ['10.1.1.1'], 'p11', 11)], [slice(1, ['10.1.1.1'], 'p11-2', 11)]);
    expect(r.out).toEqual([['p11-2', ['10.1.1.1:11']]]);
    expect(r.cleanup).toBe(true);
  });

  it('renumber a port', () => {
    const r = run([slice(1, ['10.1.1.1'], 'p11', 11)], [slice(1, ['10.1.1.1'], 'p11', 22)]);
    expect(r.out).toEqual([['p11', ['10.1.1.1:22']]]);
    expect(r.cleanup).toBe(true);
  });

  it('remove the slice', () => {
    const r = run([slice(1, ['10.1.1.1'], 'p11', 11)], [null]);
    expect(r).toEqual({ out: [], cleanup: true, updated: ['ns1/ep1'] });
  });

  it('an update then its undo cancels out', () => {
    const t = new EndpointsChangeTracker(TEST_NODE_NAME);
    const a = slice(1, ['10.1.1.1'], 'p11', 11);
    t.endpointSliceUpdate(a, false);
    t.apply(new Map());
    expect(t.endpointSliceUpdate(slice(1, ['10.1.1.2'], 'p11', 11), false)).toBe(true);
    expect(t.endpointSliceUpdate(a, false)).toBe(true);
    expect(t.apply(new Map()).updated.size).toBe(1);
  });
});

describe('topology hints', () => {
  const svc = [
    ...servicePorts(
      makeService('ns', 's', (s) => {
        s.spec.clusterIP = '172.30.0.1';
        s.spec.ports = [{ name: 'p', port: 80, protocol: 'TCP' }];
      }),
    ).values(),
  ][0]!;
  const eps = (hints: (string | null)[]) =>
    endpointsFromSlices(
      'ns/s',
      [
        makeSlice('ns', 's', 1, (e) => {
          e.endpoints = hints.map((z, i) => ({
            addresses: [`10.0.0.${i + 1}`],
            ...(z ? { hints: { forZones: [{ name: z }] } } : {}),
          }));
          e.ports = [{ name: 'p', port: 80, protocol: 'TCP' }];
        }),
      ],
      'n1',
    ).get(svc.key)!;

  it('narrows cluster endpoints to this zone when every ready endpoint is hinted', () => {
    const c = categorizeEndpoints(eps(['a', 'b', 'a']), svc, 'n1', 'a');
    expect(c.cluster.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.3']);
  });

  it('ignores hints when one endpoint lacks them or none is for this zone', () => {
    expect(categorizeEndpoints(eps(['a', null, 'a']), svc, 'n1', 'a').cluster.length).toBe(3);
    expect(categorizeEndpoints(eps(['b', 'b']), svc, 'n1', 'a').cluster.length).toBe(2);
  });

  it('a zone label change forces a full sync that re-narrows', () => {
    const { proxier } = fakeProxier({ topologyLabels: { 'topology.kubernetes.io/zone': 'a' } });
    addServices(
      proxier,
      makeService('ns', 's', (s) => {
        s.spec.clusterIP = '172.30.0.1';
        s.spec.ports = [{ name: 'p', port: 80, protocol: 'TCP' }];
      }),
    );
    addSlices(
      proxier,
      makeSlice('ns', 's', 1, (e) => {
        e.endpoints = [
          { addresses: ['10.0.0.1'], hints: { forZones: [{ name: 'a' }] } },
          { addresses: ['10.0.0.2'], hints: { forZones: [{ name: 'b' }] } },
        ];
        e.ports = [{ name: 'p', port: 80, protocol: 'TCP' }];
      }),
    );
    const dnat = (p: string) =>
      p
        .split('\n')
        .filter((l) => l.includes('-j DNAT'))
        .map((l) => l.split(' ').pop());
    expect(dnat(proxier.syncProxyRules().payload)).toEqual(['10.0.0.1:80']);
    proxier.onTopologyChange({ 'topology.kubernetes.io/zone': 'b' });
    const r = proxier.syncProxyRules();
    expect(r.fullSync).toBe(true);
    expect(dnat(r.payload)).toEqual(['10.0.0.2:80']);
  });
});

describe('partial sync bookkeeping', () => {
  it('counts the rules it leaves out exactly as a full sync would write them', () => {
    const { proxier } = fakeProxier();
    addServices(proxier, ...overall.services());
    addSlices(proxier, ...overall.slices());
    const full = proxier.syncProxyRules();
    const partial = proxier.syncProxyRules();
    expect(partial.fullSync).toBe(false);
    expect(partial.natRules + partial.skippedNatRules).toBe(full.natRules);
    expect(partial.activeNatChains).toEqual(full.activeNatChains);
    expect(partial.payload).not.toContain('KUBE-SEP-');
  });
});
