// Rule-level expectations of upstream kube-proxy's proxier_test.go (TestMasqueradeRule, TestDropInvalidRule,
// TestNodePorts' KUBE-FIREWALL check, TestSyncProxyRulesLargeClusterMode, TestLoadBalancerIngressRouteTypeProxy,
// TestComputeProbability, TestBuildServiceMap*) and the option handling around them (mark bit, nodePortAddresses,
// jump rules and canaries a full sync ensures).

import { describe, expect, it } from 'vitest';
import { iptables, iptablesSave } from '../../src/iptables/index.js';
import { formatMark, Proxier } from '../../src/proxy/proxier.js';
import { computeProbability } from '../../src/proxy/ruleset.js';
import { servicePorts } from '../../src/proxy/serviceport.js';
import { addServices, addSlices, chainRules, fakeProxier, makeService, makeSlice } from './helpers.js';

const forward = [
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
];

describe('TestMasqueradeRule', () => {
  for (const randomFully of [false, true]) {
    it(`randomFully ${randomFully}`, () => {
      const { proxier } = fakeProxier({ randomFully });
      const r = proxier.syncProxyRules();
      expect(chainRules(r.payload, 'nat', 'KUBE-POSTROUTING')).toEqual([
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
        `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully ? ' --random-fully' : ''}`,
      ]);
    });
  }

  it('formats the mark as kube-proxy does (%#08x) unless told otherwise', () => {
    expect(formatMark(14)).toBe('0x00004000');
    expect(formatMark(0)).toBe('0x00000001');
    const p = new Proxier({ nodeName: 'n', masqueradeBit: 15 });
    expect(chainRules(p.syncProxyRules().payload, 'nat', 'KUBE-MARK-MASQ')).toEqual([
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x00008000',
    ]);
  });
});

describe('TestDropInvalidRule', () => {
  const cases = [
    { nfacct: false, liberal: false, drop: ['-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'] },
    {
      nfacct: true,
      liberal: false,
      drop: [
        '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
      ],
    },
    { nfacct: false, liberal: true, drop: [] },
  ];
  for (const c of cases) {
    it(`tcpLiberal ${c.liberal}, nfacct ${c.nfacct}`, () => {
      const { proxier } = fakeProxier({ nfacct: c.nfacct, conntrackTCPLiberal: c.liberal });
      expect(chainRules(proxier.syncProxyRules().payload, 'filter', 'KUBE-FORWARD')).toEqual([...c.drop, ...forward]);
    });
  }
});

describe('TestNodePorts (rules)', () => {
  const cases = [
    { name: 'localhost-nodeports enabled', localhost: true, npa: undefined, firewall: true },
    { name: 'localhost-nodeports disabled', localhost: false, npa: undefined, firewall: false },
    {
      name: 'disabled, localhost in nodeport-addresses',
      localhost: false,
      npa: ['192.168.0.0/24', '127.0.0.1/32'],
      firewall: false,
    },
    {
      name: 'multiple nodeport-addresses',
      localhost: false,
      npa: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'],
      firewall: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { proxier } = fakeProxier({
        localhostNodePorts: c.localhost,
        ...(c.npa ? { nodePortAddresses: c.npa } : {}),
      });
      addServices(
        proxier,
        makeService('ns1', 'svc1', (s) => {
          s.spec.type = 'NodePort';
          s.spec.clusterIP = '172.30.0.41';
          s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
        }),
      );
      const r = proxier.syncProxyRules();
      expect(chainRules(r.payload, 'filter', 'KUBE-FIREWALL')).toEqual(
        c.firewall
          ? [
              '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
            ]
          : [],
      );
      const last = chainRules(r.payload, 'nat', 'KUBE-SERVICES').filter((l) => l.includes('must be the last rule'));
      const tail = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
      if (c.npa === undefined)
        expect(last).toEqual([
          `-A KUBE-SERVICES -m comment --comment ${tail} -m addrtype --dst-type LOCAL${c.localhost ? '' : ' ! -d 127.0.0.0/8'} -j KUBE-NODEPORTS`,
        ]);
      else if (c.npa.length === 2)
        expect(last).toEqual([`-A KUBE-SERVICES -m comment --comment ${tail} -d 192.168.0.2 -j KUBE-NODEPORTS`]);
      else
        expect(last).toEqual([
          `-A KUBE-SERVICES -m comment --comment ${tail} -d 192.168.0.2 -j KUBE-NODEPORTS`,
          `-A KUBE-SERVICES -m comment --comment ${tail} -d 192.168.1.2 -j KUBE-NODEPORTS`,
        ]);
    });
  }

  it('turns localhost NodePorts off when --nodeport-addresses leaves out 127.0.0.0/8', () => {
    const { proxier } = fakeProxier({ nodePortAddresses: ['192.168.0.0/24'] });
    expect(proxier.config.localhostNodePorts).toBe(false);
  });
});

describe('TestSyncProxyRulesLargeClusterMode', () => {
  it('drops per-endpoint comments past 1000 endpoints, and defers stale chain cleanup', () => {
    const { ns, proxier } = fakeProxier({ masqueradeAll: true, syncPeriodSeconds: 30 });
    const svc = (n: number, port: number) =>
      makeService(`ns${n}`, `svc${n}`, (s) => {
        s.spec.clusterIP = `172.30.0.4${n}`;
        s.spec.ports = [{ name: `p${port}`, port, protocol: 'TCP' }];
      });
    addServices(proxier, svc(1, 80), svc(2, 8080), svc(3, 8081));
    const many = (n: number, net: number, port: number) =>
      makeSlice(`ns${n}`, `svc${n}`, 1, (e) => {
        e.endpoints = Array.from({ length: 499 }, (_, i) => ({ addresses: [`10.${net}.${i % 256}.${i >> 8}`] }));
        e.ports = [{ name: `p${port}`, port, protocol: 'TCP' }];
      });
    addSlices(proxier, many(1, 0, 80), many(2, 1, 8080));
    let r = proxier.syncProxyRules();
    const dnat = (p: string) => p.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('-j DNAT'));
    expect(dnat(r.payload)).toContain(
      '-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80',
    );
    expect(dnat(r.payload).length).toBe(998);

    addSlices(
      proxier,
      makeSlice('ns3', 'svc3', 1, (e) => {
        e.endpoints = ['203.0.113.4', '203.0.113.8', '203.0.113.12'].map((a) => ({ addresses: [a] }));
        e.ports = [{ name: 'p8081', port: 8081, protocol: 'TCP' }];
      }),
    );
    r = proxier.syncProxyRules();
    expect(r.largeClusterMode).toBe(true);
    expect(dnat(r.payload)).toContain(
      '-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081',
    );
    expect(dnat(r.payload).length).toBe(3);

    proxier.forceFullSync();
    r = proxier.syncProxyRules();
    expect(dnat(r.payload)).toContain(
      '-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80',
    );
    expect(dnat(r.payload).length).toBe(1001);

    const svc4 = makeService('ns4', 'svc4', (s) => {
      s.spec.clusterIP = '172.30.0.44';
      s.spec.ports = [{ name: 'p8082', port: 8082, protocol: 'TCP' }];
    });
    addServices(proxier, svc4);
    addSlices(
      proxier,
      makeSlice('ns4', 'svc4', 1, (e) => {
        e.endpoints = [{ addresses: ['10.4.0.1'] }];
        e.ports = [{ name: 'p8082', port: 8082, protocol: 'TCP' }];
      }),
    );
    r = proxier.syncProxyRules();
    expect(dnat(r.payload)).toEqual([
      '-A KUBE-SEP-SU5STNODRYEWJAUF -m tcp -p tcp -j DNAT --to-destination 10.4.0.1:8082',
    ]);

    // Deleted within syncPeriod of the last cleanup: the chains stay for now.
    proxier.onServiceDelete(svc4);
    r = proxier.syncProxyRules();
    expect(dnat(r.payload)).toEqual([]);
    expect(r.payload).not.toContain('-X ');
    // A syncPeriod later they go.
    ns.kernel.queue.schedule(31e9, () => {});
    ns.kernel.run(ns.kernel.now + 31e9);
    r = proxier.syncProxyRules();
    expect(r.payload).toContain('-X KUBE-SVC-EBDQOQU5SJFXRIL3');
    expect(r.payload).toContain('-X KUBE-SEP-SU5STNODRYEWJAUF');
    expect(iptablesSave(ns)).not.toContain('KUBE-SEP-SU5STNODRYEWJAUF');
  });
});

describe('TestLoadBalancerIngressRouteTypeProxy', () => {
  for (const [mode, expected] of [
    ['Proxy', false],
    ['VIP', true],
    [undefined, true],
  ] as const) {
    it(`ipMode ${mode ?? 'unset'}`, () => {
      const { proxier } = fakeProxier();
      addServices(
        proxier,
        makeService('ns1', 'svc1', (s) => {
          s.spec.type = 'LoadBalancer';
          s.spec.clusterIP = '10.20.30.41';
          s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }];
          s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4', ...(mode ? { ipMode: mode } : {}) }] } };
        }),
      );
      addSlices(
        proxier,
        makeSlice('ns1', 'svc1', 1, (e) => {
          e.endpoints = [{ addresses: ['10.180.0.1'] }];
          e.ports = [{ name: 'p80', port: 80, protocol: 'TCP' }];
        }),
      );
      const rules = chainRules(proxier.syncProxyRules().payload, 'nat', 'KUBE-SERVICES');
      expect(rules.some((l) => l.includes('-d 1.2.3.4 '))).toBe(expected);
    });
  }
});

describe('TestComputeProbability', () => {
  it('prints %0.10f of 1/n and stays strictly decreasing', () => {
    const want: Record<number, string> = {
      1: '1.0000000000',
      2: '0.5000000000',
      10: '0.1000000000',
      100: '0.0100000000',
      1000: '0.0010000000',
      10000: '0.0001000000',
      100000: '0.0000100000',
      100001: '0.0000099999',
    };
    for (const [n, s] of Object.entries(want)) expect(computeProbability(Number(n))).toBe(s);
    // Go rounds an exact tie to even; JavaScript's toFixed would round it up.
    expect(computeProbability(2048)).toBe('0.0004882812');
    let prev = 0;
    for (let i = 100000; i > 1; i--) {
      const p = Number(computeProbability(i));
      expect(p > prev).toBe(true);
      prev = p;
    }
  });
});

describe('TestBuildServiceMap', () => {
  it('skips headless and ExternalName services, and those another proxy serves', () => {
    expect(
      servicePorts(
        makeService('x', 'headless', (s) => {
          s.spec.clusterIP = 'None';
          s.spec.ports = [{ name: 'rpc', port: 1234, protocol: 'UDP' }];
        }),
      ).size,
    ).toBe(0);
    expect(
      servicePorts(
        makeService('x', 'external-name', (s) => {
          s.spec.type = 'ExternalName';
          s.spec.clusterIP = '172.30.55.4';
          s.spec.externalName = 'foo2.bar.com';
          s.spec.ports = [{ name: 'blah', port: 1235, protocol: 'UDP' }];
        }),
      ).size,
    ).toBe(0);
    expect(
      servicePorts(
        makeService('x', 'other', (s) => {
          s.metadata.labels = { 'service.kubernetes.io/service-proxy-name': 'foo' };
          s.spec.clusterIP = '172.30.55.5';
          s.spec.ports = [{ name: 'a', port: 1, protocol: 'TCP' }];
        }),
      ).size,
    ).toBe(0);
  });

  it('gives a health check node port only to LoadBalancer services with Local external policy', () => {
    const lb = (policy: 'Local' | 'Cluster') =>
      makeService('somewhere', 'lb', (s) => {
        s.spec.type = 'LoadBalancer';
        s.spec.clusterIP = '172.30.55.12';
        s.spec.ports = [
          { name: 'foobar2', port: 8677, protocol: 'UDP', nodePort: 30063 },
          { name: 'baz', port: 8678, protocol: 'UDP', nodePort: 30064 },
        ];
        s.spec.externalTrafficPolicy = policy;
        s.spec.healthCheckNodePort = 345;
      });
    expect([...servicePorts(lb('Local')).values()].map((p) => p.healthCheckNodePort)).toEqual([345, 345]);
    expect([...servicePorts(lb('Cluster')).values()].map((p) => p.healthCheckNodePort)).toEqual([0, 0]);
  });

  it('does not resync when an update changes nothing kube-proxy uses', () => {
    const { proxier } = fakeProxier();
    const a = makeService('ns', 's', (s) => {
      s.spec.clusterIP = '172.30.0.9';
      s.spec.ports = [{ name: 'p', port: 1, protocol: 'TCP' }];
    });
    const b = structuredClone(a);
    b.metadata.annotations = { unrelated: 'x' };
    expect(proxier.onServiceAdd(a)).toBe(true);
    proxier.syncProxyRules();
    expect(proxier.onServiceUpdate(a, b)).toBe(false);
  });
});

describe('full sync bookkeeping', () => {
  it('ensures canaries and the jump rules in upstream order, once', () => {
    const { ns, proxier } = fakeProxier();
    const first = proxier.syncProxyRules();
    expect(first.ensured.slice(0, 3).map((w) => w.join(' '))).toEqual([
      '-t mangle -N KUBE-PROXY-CANARY',
      '-t nat -N KUBE-PROXY-CANARY',
      '-t filter -N KUBE-PROXY-CANARY',
    ]);
    const save = iptablesSave(ns, { date: null });
    const input = save.split('\n').filter((l) => l.startsWith('-A INPUT '));
    expect(input).toEqual([
      '-A INPUT -j KUBE-FIREWALL',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    ]);
    expect(save).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(save).toContain('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
    // A second full sync finds everything in place and runs no command.
    proxier.forceFullSync();
    expect(proxier.syncProxyRules().ensured).toEqual([]);
    expect(iptablesSave(ns, { date: null })).toBe(save);
  });

  it('resyncs fully when a canary disappears (someone flushed the tables)', () => {
    const { ns, proxier } = fakeProxier();
    proxier.syncProxyRules();
    expect(proxier.syncProxyRules().fullSync).toBe(false);
    const mangle = iptablesSave(ns, { table: 'mangle' });
    expect(mangle).toContain(':KUBE-PROXY-CANARY - [0:0]');
    iptables(ns, ['-t', 'mangle', '-X', 'KUBE-PROXY-CANARY']);
    const r = proxier.syncProxyRules();
    expect(r.fullSync).toBe(true);
    expect(r.ensured.map((w) => w.join(' '))).toEqual(['-t mangle -N KUBE-PROXY-CANARY']);
  });
});
