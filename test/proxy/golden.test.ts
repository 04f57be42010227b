// Golden comparison with upstream kube-proxy: the inputs of proxier_test.go's TestOverallIPTablesRules,
// TestBadIPs and TestSyncProxyRulesRepeated, ported to Service/EndpointSlice objects, must give exactly the
// restore payloads that test expects (test/proxy/golden/, in its sorted form). Each payload is also loaded into a
// podwire namespace through iptables-restore --noflush, and what iptables-save prints back must restore to itself.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iptables, iptablesRestore, iptablesSave } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import type { NetNs } from '../../src/netns/netns.js';
import { addServices, addSlices, fakeProxier, makeService, makeSlice, parseDump, sortDump } from './helpers.js';
import { overall } from './overall-input.js';

const golden = (name: string): string => readFileSync(new URL(`golden/${name}`, import.meta.url), 'utf8');

/** What iptables-save prints restores to the same ruleset in a fresh namespace. */
function expectRoundTrip(ns: NetNs): string {
  const saved = iptablesSave(ns);
  const k = new Kernel({ seed: 2 });
  const other = k.addNetns('copy');
  iptablesRestore(other, saved);
  expect(iptablesSave(other)).toBe(saved);
  return saved;
}

/** Every chain a full-sync payload declares holds exactly the payload's number of rules once loaded. */
function expectLoaded(ns: NetNs, payload: string): void {
  const saved = iptablesSave(ns);
  for (const t of parseDump(payload)) {
    const block = saved.slice(saved.indexOf(`*${t.name}\n`));
    const lines = block.slice(0, block.indexOf('COMMIT')).split('\n');
    for (const c of t.chains) {
      const n = lines.filter((l) => l.startsWith(`-A ${c.name} `) || l === `-A ${c.name}`).length;
      if (c.deleted) expect(lines).not.toContain(`:${c.name} - [0:0]`);
      else expect(n, `${t.name} ${c.name}`).toBe(c.rules.length);
    }
  }
}

const port80 = (name = 'p80', port = 80) => [{ name, port, protocol: 'TCP' as const }];

describe('TestOverallIPTablesRules', () => {
  it('writes exactly the payload upstream expects, and it loads', () => {
    const { ns, proxier } = fakeProxier();
    addServices(proxier, ...overall.services());
    addSlices(proxier, ...overall.slices());
    const r = proxier.syncProxyRules();
    expect(r.error).toBeNull();
    expect(r.fullSync).toBe(true);
    expect(sortDump(r.payload)).toBe(golden('overall.txt'));
    expectLoaded(ns, r.payload);
    expectRoundTrip(ns);
  });

  it('reports the nat rule count the payload holds', () => {
    const { proxier } = fakeProxier();
    addServices(proxier, ...overall.services());
    addSlices(proxier, ...overall.slices());
    const r = proxier.syncProxyRules();
    expect(r.natRules).toBe(r.payload.split('\n').filter((l) => l.startsWith('-A ')).length - r.filterRules);
  });
});

describe('TestBadIPs', () => {
  it('rewrites sloppy addresses and CIDRs into their canonical forms', () => {
    const { ns, proxier } = fakeProxier();
    addServices(
      proxier,
      makeService('ns1', 'svc1', (s) => {
        s.spec.type = 'LoadBalancer';
        s.spec.clusterIP = '172.30.0.041';
        s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
        s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.004' }] } };
        s.spec.externalIPs = ['192.168.099.022'];
        s.spec.loadBalancerSourceRanges = ['203.0.113.000/025'];
      }),
    );
    addSlices(
      proxier,
      makeSlice('ns1', 'svc1', 1, (e) => {
        e.endpoints = [{ addresses: ['10.180.00.001'] }];
        e.ports = port80();
      }),
    );
    const r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('bad-ips.txt'));
    expectLoaded(ns, r.payload);
  });
});

describe('TestSyncProxyRulesRepeated', () => {
  it('rewrites only changed services on partial syncs, deletes stale chains, recovers from a failed restore', () => {
    const { ns, proxier } = fakeProxier();
    const clusterIP = (ns_: string, name: string, ip: string, port: string, num: number) =>
      makeService(ns_, name, (s) => {
        s.spec.type = 'ClusterIP';
        s.spec.clusterIP = ip;
        s.spec.ports = port80(port, num);
      });
    const slice = (ns_: string, name: string, ips: string[], port: string, num: number) =>
      makeSlice(ns_, name, 1, (e) => {
        e.endpoints = ips.map((a) => ({ addresses: [a] }));
        e.ports = port80(port, num);
      });
    const svc2 = clusterIP('ns2', 'svc2', '172.30.0.42', 'p8080', 8080);
    addServices(proxier, clusterIP('ns1', 'svc1', '172.30.0.41', 'p80', 80), svc2);
    addSlices(
      proxier,
      slice('ns1', 'svc1', ['10.0.1.1'], 'p80', 80),
      slice('ns2', 'svc2', ['10.0.2.1'], 'p8080', 8080),
    );
    let r = proxier.syncProxyRules();
    expect(r.fullSync).toBe(true);
    expect(sortDump(r.payload)).toBe(golden('repeated-1-initial.txt'));

    addServices(proxier, clusterIP('ns3', 'svc3', '172.30.0.43', 'p80', 80));
    const eps3 = slice('ns3', 'svc3', ['10.0.3.1'], 'p80', 80);
    addSlices(proxier, eps3);
    r = proxier.syncProxyRules();
    expect(r.fullSync).toBe(false);
    expect(sortDump(r.payload)).toBe(golden('repeated-2-add-svc3.txt'));

    proxier.onServiceDelete(svc2);
    r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('repeated-3-delete-svc2.txt'));
    expect(iptablesSave(ns)).not.toContain('KUBE-SVC-2VJB64SDSIJUP5T6');

    const svc4 = clusterIP('ns4', 'svc4', '172.30.0.44', 'p80', 80);
    addServices(proxier, svc4);
    r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('repeated-4-add-svc4-no-endpoints.txt'));

    addSlices(proxier, slice('ns4', 'svc4', ['10.0.4.1'], 'p80', 80));
    r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('repeated-5-svc4-endpoints.txt'));

    const eps3update = slice('ns3', 'svc3', ['10.0.3.2'], 'p80', 80);
    proxier.onEndpointSliceUpdate(eps3, eps3update);
    r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('repeated-6-change-endpoint.txt'));

    proxier.onEndpointSliceUpdate(eps3update, slice('ns3', 'svc3', ['10.0.3.2', '10.0.3.3'], 'p80', 80));
    r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('repeated-7-add-endpoint.txt'));

    r = proxier.syncProxyRules();
    expect(sortDump(r.payload)).toBe(golden('repeated-8-no-changes.txt'));

    // A rule from svc3's chain to svc4's endpoint makes the partial sync that deletes svc4 fail: the kernel
    // refuses to delete a chain something still jumps to. The proxier falls back to a full sync next time.
    iptables(ns, ['-t', 'nat', '-A', 'KUBE-SVC-X27LE4BHSL4DOUIK', '-j', 'KUBE-SEP-AYCN5HPXMIRJNJXU']);
    proxier.onServiceDelete(svc4);
    r = proxier.syncProxyRules();
    expect(r.fullSync).toBe(false);
    expect(r.error?.message).toMatch(/iptables-restore: line \d+ failed/);
    expect(iptablesSave(ns, { table: 'nat' })).toContain(':KUBE-SEP-AYCN5HPXMIRJNJXU - [0:0]');
    r = proxier.syncProxyRules();
    expect(r.error).toBeNull();
    expect(r.fullSync).toBe(true);
    expect(sortDump(r.payload)).toBe(golden('repeated-9-full-resync-after-failure.txt'));
    expect(iptablesSave(ns)).not.toContain('AYCN5HPXMIRJNJXU');
    expectRoundTrip(ns);
  });
});
