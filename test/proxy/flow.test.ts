// Upstream kube-proxy's packet-flow expectations (proxier_test.go's runPacketFlowTests cases) replayed through
// podwire's real stack and netfilter engine with conntrack: each flow is sent as many new connections, the set of
// endpoints it is DNATed to must be the set upstream's tracer lists, MASQUERADE must happen exactly when upstream
// says the packet is marked, and REJECT/DROP/ACCEPT must come from the rule upstream expects. Also: the endpoint
// distribution follows the `-m statistic` probabilities, ClientIP affinity sticks, and stale UDP flows are cleared.

import { describe, expect, it } from 'vitest';
import { conntrackList } from '../../src/iptables/index.js';
import type { EndpointSlice, Service } from '../../src/proxy/model.js';
import { expectFlows, type Flow, FlowNode, runFlow } from './flow.js';
import {
  TEST_EXTERNAL_CLIENT_BLOCKED as BLOCKED,
  TEST_EXTERNAL_CLIENT as EXT,
  makeService,
  makeSlice,
  TEST_NODE_IP as NODE,
  TEST_NODE_IP_ALT as NODE_ALT,
  TEST_NODE_NAME,
} from './helpers.js';

function node(services: Service[], slices: EndpointSlice[], opts: ConstructorParameters<typeof FlowNode>[0] = {}) {
  const n = new FlowNode(opts);
  for (const s of services) n.proxier.onServiceAdd(s);
  for (const e of slices) n.proxier.onEndpointSliceAdd(e);
  n.sync();
  return n;
}

const tcpPort = (name: string, port: number, nodePort?: number) => ({
  name,
  port,
  protocol: 'TCP' as const,
  ...(nodePort ? { nodePort } : {}),
});

describe('TestNoEndpointsReject', () => {
  it('rejects cluster IP, external IP, NodePort and LB traffic of a service without endpoints', () => {
    const n = node(
      [
        makeService('ns1', 'svc1', (s) => {
          s.spec.type = 'LoadBalancer';
          s.spec.clusterIP = '172.30.0.41';
          s.spec.externalIPs = ['192.168.99.11'];
          s.spec.ports = [tcpPort('p80', 80, 3001)];
          s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
        }),
      ],
      [],
    );
    expectFlows(
      n,
      [
        { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: 'REJECT' },
        { name: 'external to external IP', sourceIP: EXT, destIP: '192.168.99.11', destPort: 80, output: 'REJECT' },
        { name: 'pod to NodePort', sourceIP: '10.0.0.2', destIP: NODE, destPort: 3001, output: 'REJECT' },
        { name: 'external to NodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: 'REJECT' },
        { name: 'pod to LB IP', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
        { name: 'external to LB IP', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
      ],
      3,
    );
  });
});

describe('TestClusterIPGeneral', () => {
  it('serves several ports and protocols of cluster IPs', () => {
    const n = node(
      [
        makeService('ns1', 'svc1', (s) => {
          s.spec.clusterIP = '172.30.0.41';
          s.spec.ports = [tcpPort('http', 80)];
        }),
        makeService('ns2', 'svc2', (s) => {
          s.spec.clusterIP = '172.30.0.42';
          s.spec.ports = [
            tcpPort('http', 80),
            { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
            { name: 'dns-udp', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
            { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
          ];
        }),
      ],
      [
        makeSlice('ns1', 'svc1', 1, (e) => {
          e.endpoints = [{ addresses: ['10.180.0.1'], nodeName: TEST_NODE_NAME }];
          e.ports = [tcpPort('http', 80)];
        }),
        makeSlice('ns2', 'svc2', 1, (e) => {
          e.endpoints = [
            { addresses: ['10.180.0.1'], nodeName: TEST_NODE_NAME },
            { addresses: ['10.180.2.1'], nodeName: 'node2' },
          ];
          e.ports = [
            tcpPort('http', 80),
            tcpPort('https', 8443),
            { name: 'dns-udp', port: 53, protocol: 'UDP' },
            tcpPort('dns-tcp', 5353),
            { name: 'dns-sctp', port: 53, protocol: 'SCTP' },
          ];
        }),
      ],
    );
    const both = (p: number) => `10.180.0.1:${p}, 10.180.2.1:${p}`;
    expectFlows(n, [
      {
        name: 'simple clusterIP',
        sourceIP: '10.180.0.2',
        destIP: '172.30.0.41',
        destPort: 80,
        output: '10.180.0.1:80',
      },
      {
        name: 'hairpin to cluster IP',
        sourceIP: '10.180.0.1',
        destIP: '172.30.0.41',
        destPort: 80,
        output: '10.180.0.1:80',
        masq: true,
      },
      { name: 'multiple endpoints', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 80, output: both(80) },
      { name: 'TargetPort', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 443, output: both(8443) },
      { name: 'TCP on 53', sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 53, output: both(5353) },
      {
        name: 'UDP on 53',
        sourceIP: '10.180.0.2',
        destIP: '172.30.0.42',
        destPort: 53,
        protocol: 'UDP',
        output: both(53),
      },
      {
        name: 'TCP-only port does not match UDP',
        sourceIP: '10.180.0.2',
        destIP: '172.30.0.42',
        destPort: 80,
        protocol: 'UDP',
        output: '',
      },
      {
        name: "svc1 does not accept svc2's ports",
        sourceIP: '10.180.0.2',
        destIP: '172.30.0.41',
        destPort: 443,
        output: '',
      },
    ]);
  });

  it('loads SCTP services and DNATs their addresses (podwire tracks SCTP without ports)', () => {
    const n = node(
      [
        makeService('ns2', 'svc2', (s) => {
          s.spec.clusterIP = '172.30.0.42';
          s.spec.ports = [{ name: 'dns-sctp', port: 53, protocol: 'SCTP' }];
        }),
      ],
      [
        makeSlice('ns2', 'svc2', 1, (e) => {
          e.endpoints = [{ addresses: ['10.180.0.1'] }];
          e.ports = [{ name: 'dns-sctp', port: 53, protocol: 'SCTP' }];
        }),
      ],
    );
    const r = n.send({ sourceIP: '10.180.0.2', destIP: '172.30.0.42', destPort: 53, protocol: 'SCTP' });
    expect(r.dnat).toBe('10.180.0.1:53');
  });
});

describe('TestLoadBalancer', () => {
  it('applies loadBalancerSourceRanges to LB IPs but not to NodePorts', () => {
    const n = node(
      [
        makeService('ns1', 'svc1', (s) => {
          s.spec.type = 'LoadBalancer';
          s.spec.clusterIP = '172.30.0.41';
          s.spec.ports = [tcpPort('p80', 80, 3001)];
          s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8' }] } };
          s.spec.loadBalancerSourceRanges = ['192.168.0.0/24', ' 203.0.113.0/25'];
        }),
      ],
      [
        makeSlice('ns1', 'svc1', 1, (e) => {
          e.endpoints = [{ addresses: ['10.180.0.1'] }];
          e.ports = [tcpPort('p80', 80)];
        }),
      ],
    );
    const ep = '10.180.0.1:80';
    expectFlows(
      n,
      [
        { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: ep },
        { name: 'external to nodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: ep, masq: true },
        {
          name: 'nodePort bypasses source ranges',
          sourceIP: BLOCKED,
          destIP: NODE,
          destPort: 3001,
          output: ep,
          masq: true,
        },
        { name: 'accepted external to LB1', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
        { name: 'accepted external to LB2', sourceIP: EXT, destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
        { name: 'blocked external to LB1', sourceIP: BLOCKED, destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
        { name: 'blocked external to LB2', sourceIP: BLOCKED, destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
        { name: 'pod to LB1 (blocked)', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
        { name: 'pod to LB2 (blocked)', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
        { name: 'node to LB1 (allowed)', sourceIP: NODE, destIP: '1.2.3.4', destPort: 80, output: ep, masq: true },
        { name: 'node to LB2 (allowed)', sourceIP: NODE, destIP: '5.6.7.8', destPort: 80, output: ep, masq: true },
        {
          name: 'same node to LB1, SNATted to LB1',
          sourceIP: '1.2.3.4',
          destIP: '1.2.3.4',
          destPort: 80,
          output: ep,
          masq: true,
        },
        {
          name: 'same node to LB2, SNATted to LB2',
          sourceIP: '5.6.7.8',
          destIP: '5.6.7.8',
          destPort: 80,
          output: ep,
          masq: true,
        },
      ],
      6,
    );
  });
});

describe('TestNodePorts (IPv4)', () => {
  const cases = [
    { name: 'localhost-nodeports enabled', localhost: true, npa: undefined, alt: true },
    { name: 'localhost-nodeports disabled', localhost: false, npa: undefined, alt: true },
    {
      name: 'disabled, localhost in nodeport-addresses',
      localhost: false,
      npa: ['192.168.0.0/24', '127.0.0.1/32'],
      alt: false,
    },
    {
      name: 'multiple nodeport-addresses',
      localhost: false,
      npa: ['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'],
      alt: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const n = node(
        [
          makeService('ns1', 'svc1', (s) => {
            s.spec.type = 'NodePort';
            s.spec.clusterIP = '172.30.0.41';
            s.spec.ports = [tcpPort('p80', 80, 3001)];
          }),
        ],
        [
          makeSlice('ns1', 'svc1', 1, (e) => {
            e.endpoints = [{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.2.1'], nodeName: TEST_NODE_NAME }];
            e.ports = [tcpPort('p80', 80)];
          }),
        ],
        { localhostNodePorts: c.localhost, ...(c.npa ? { nodePortAddresses: c.npa } : {}) },
      );
      const out = '10.180.0.1:80, 10.180.2.1:80';
      const flows: Flow[] = [
        { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: out },
        { name: 'external to nodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: out, masq: true },
        { name: 'node to nodePort', sourceIP: NODE, destIP: NODE, destPort: 3001, output: out, masq: true },
        c.localhost
          ? { name: 'localhost', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output: out, masq: true }
          : { name: 'localhost ignored', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3001, output: '' },
        c.alt
          ? { name: 'secondary IP', sourceIP: EXT, destIP: NODE_ALT, destPort: 3001, output: out, masq: true }
          : { name: 'secondary IP ignored', sourceIP: EXT, destIP: NODE_ALT, destPort: 3001, output: '' },
      ];
      expectFlows(n, flows, 30);
    });
  }
});

describe('TestHealthCheckNodePort', () => {
  it('accepts the health check node port until the service goes', () => {
    const svc = makeService('ns1', 'svc1', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '172.30.0.42';
      s.spec.ports = [tcpPort('p80', 80, 3001)];
      s.spec.healthCheckNodePort = 30000;
      s.spec.externalTrafficPolicy = 'Local';
    });
    const n = node([svc], [], { nodePortAddresses: ['127.0.0.0/8'] });
    expectFlows(n, [{ name: 'accepted', sourceIP: '1.2.3.4', destIP: NODE, destPort: 30000, output: 'ACCEPT' }], 2);
    n.proxier.onServiceDelete(svc);
    n.sync();
    expectFlows(n, [{ name: 'gone', sourceIP: '1.2.3.4', destIP: NODE, destPort: 30000, output: '' }], 2);
  });
});

function lbService(policy: 'Local' | 'Cluster') {
  return makeService('ns1', 'svc1', (s) => {
    s.spec.type = 'LoadBalancer';
    s.spec.externalTrafficPolicy = policy;
    s.spec.clusterIP = '172.30.0.41';
    s.spec.externalIPs = ['192.168.99.11'];
    s.spec.ports = [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001, targetPort: 80 }];
    if (policy === 'Local') s.spec.healthCheckNodePort = 30000;
    s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  });
}

const twoEndpoints = makeSlice('ns1', 'svc1', 1, (e) => {
  e.endpoints = [{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.2.1'], nodeName: TEST_NODE_NAME }];
  e.ports = [tcpPort('p80', 80)];
});

describe('TestExternalTrafficPolicyLocal', () => {
  it('keeps external clients on local endpoints without masquerade; pods short-circuit to all', () => {
    const n = node([lbService('Local')], [twoEndpoints]);
    const both = '10.180.0.1:80, 10.180.2.1:80';
    const local = '10.180.2.1:80';
    expectFlows(n, [
      { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both },
      { name: 'pod to external IP', sourceIP: '10.0.0.2', destIP: '192.168.99.11', destPort: 80, output: both },
      { name: 'external to external IP', sourceIP: EXT, destIP: '192.168.99.11', destPort: 80, output: local },
      { name: 'pod to LB IP', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both },
      { name: 'external to LB IP', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: local },
      { name: 'pod to NodePort', sourceIP: '10.0.0.2', destIP: NODE, destPort: 3001, output: both },
      { name: 'external to NodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: local },
    ]);
  });

  it('drops external traffic when there is no local endpoint, still serving pods', () => {
    const remote = makeSlice('ns1', 'svc1', 1, (e) => {
      e.endpoints = [{ addresses: ['10.180.0.1'], nodeName: 'node2' }];
      e.ports = [tcpPort('p80', 80)];
    });
    const n = node([lbService('Local')], [remote]);
    expectFlows(
      n,
      [
        { name: 'pod to LB IP', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: '10.180.0.1:80' },
        { name: 'external to LB IP', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: 'DROP' },
        { name: 'external to NodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: 'DROP' },
        { name: 'node to NodePort', sourceIP: NODE, destIP: NODE, destPort: 3001, output: '10.180.0.1:80', masq: true },
      ],
      4,
    );
  });
});

describe('TestExternalTrafficPolicyCluster', () => {
  it('masquerades all external-destination traffic', () => {
    const n = node([lbService('Cluster')], [twoEndpoints]);
    const both = '10.180.0.1:80, 10.180.2.1:80';
    expectFlows(n, [
      { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: both },
      {
        name: 'pod to external IP',
        sourceIP: '10.0.0.2',
        destIP: '192.168.99.11',
        destPort: 80,
        output: both,
        masq: true,
      },
      {
        name: 'external to external IP',
        sourceIP: EXT,
        destIP: '192.168.99.11',
        destPort: 80,
        output: both,
        masq: true,
      },
      { name: 'pod to LB IP', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: both, masq: true },
      { name: 'external to LB IP', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: both, masq: true },
      { name: 'pod to NodePort', sourceIP: '10.0.0.2', destIP: NODE, destPort: 3001, output: both, masq: true },
      { name: 'external to NodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: both, masq: true },
    ]);
  });
});

describe('TestInternalTrafficPolicy', () => {
  const cases: { name: string; policy: 'Cluster' | 'Local'; eps: [string, string][]; output: string }[] = [
    {
      name: 'cluster',
      policy: 'Cluster',
      eps: [
        ['10.0.1.1', TEST_NODE_NAME],
        ['10.0.1.2', 'node1'],
        ['10.0.1.3', 'node2'],
      ],
      output: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80',
    },
    {
      name: 'local, one local endpoint',
      policy: 'Local',
      eps: [
        ['10.0.1.1', TEST_NODE_NAME],
        ['10.0.1.2', 'node1'],
        ['10.0.1.3', 'node2'],
      ],
      output: '10.0.1.1:80',
    },
    {
      name: 'local, several local endpoints',
      policy: 'Local',
      eps: [
        ['10.0.1.1', TEST_NODE_NAME],
        ['10.0.1.2', TEST_NODE_NAME],
        ['10.0.1.3', 'node2'],
      ],
      output: '10.0.1.1:80, 10.0.1.2:80',
    },
    {
      name: 'local, no local endpoints',
      policy: 'Local',
      eps: [
        ['10.0.1.1', 'node0'],
        ['10.0.1.2', 'node1'],
        ['10.0.1.3', 'node2'],
      ],
      output: 'DROP',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const svc = makeService('ns1', 'svc1', (s) => {
        s.spec.clusterIP = '172.30.1.1';
        s.spec.selector = { foo: 'bar' };
        s.spec.ports = [{ name: '', port: 80, protocol: 'TCP' }];
        s.spec.internalTrafficPolicy = c.policy;
      });
      const slice = makeSlice('ns1', 'svc1', 1, (e) => {
        e.ports = [{ name: '', port: 80, protocol: 'TCP' }];
        e.endpoints = c.eps.map(([a, nodeName]) => ({ addresses: [a], conditions: { ready: true }, nodeName }));
      });
      const n = node([svc], [slice]);
      expectFlows(n, [{ name: c.name, sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: c.output }]);
      n.proxier.onEndpointSliceDelete(slice);
      n.sync();
      expectFlows(
        n,
        [{ name: 'deleted', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: 'REJECT' }],
        2,
      );
    });
  }
});

type Cond = [addr: string, ready: boolean, serving: boolean, terminating: boolean, node: string];

function terminatingCase(policy: 'Local' | 'Cluster', eps: Cond[]) {
  const svc = makeService('ns1', 'svc1', (s) => {
    s.spec.clusterIP = '172.30.1.1';
    s.spec.type = 'LoadBalancer';
    s.spec.externalTrafficPolicy = policy;
    s.spec.ports = [{ name: '', port: 80, protocol: 'TCP', targetPort: 80 }];
    s.spec.healthCheckNodePort = 30000;
    s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
  });
  const slice = makeSlice('ns1', 'svc1', 1, (e) => {
    e.ports = [{ name: '', port: 80, protocol: 'TCP' }];
    e.endpoints = eps.map(([a, ready, serving, terminating, nodeName]) => ({
      addresses: [a],
      conditions: { ready, serving, terminating },
      nodeName,
    }));
  });
  return { svc, slice };
}

describe('TestTerminatingEndpointsTrafficPolicyLocal / Cluster', () => {
  const me = TEST_NODE_NAME;
  const cases: { name: string; policy: 'Local' | 'Cluster'; eps: Cond[]; pod: string; ext: string; masq: boolean }[] = [
    {
      name: 'Local: ready endpoints exist',
      policy: 'Local',
      eps: [
        ['10.0.1.1', true, true, false, me],
        ['10.0.1.2', true, true, false, me],
        ['10.0.1.3', false, true, true, me],
        ['10.0.1.4', false, false, true, me],
        ['10.0.1.5', true, true, false, 'node-1'],
      ],
      pod: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80',
      ext: '10.0.1.1:80, 10.0.1.2:80',
      masq: false,
    },
    {
      name: 'Local: only terminating endpoints exist',
      policy: 'Local',
      eps: [
        ['10.0.1.2', false, true, true, me],
        ['10.0.1.3', false, true, true, me],
        ['10.0.1.4', false, false, true, me],
        ['10.0.1.5', true, true, false, 'node-1'],
      ],
      pod: '10.0.1.5:80',
      ext: '10.0.1.2:80, 10.0.1.3:80',
      masq: false,
    },
    {
      name: 'Local: terminating endpoints on a remote node',
      policy: 'Local',
      eps: [['10.0.1.5', false, true, true, 'node-1']],
      pod: '10.0.1.5:80',
      ext: 'DROP',
      masq: false,
    },
    {
      name: 'Local: no usable endpoints',
      policy: 'Local',
      eps: [
        ['10.0.1.5', false, false, true, me],
        ['10.0.1.5', false, false, true, 'node-1'],
      ],
      pod: 'REJECT',
      ext: 'REJECT',
      masq: false,
    },
    {
      name: 'Cluster: ready endpoints exist',
      policy: 'Cluster',
      eps: [
        ['10.0.1.1', true, true, false, me],
        ['10.0.1.2', true, true, false, me],
        ['10.0.1.3', false, true, true, 'another-node'],
        ['10.0.1.4', false, false, true, 'another-node'],
        ['10.0.1.5', true, true, false, 'another-node'],
      ],
      pod: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80',
      ext: '10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80',
      masq: true,
    },
    {
      name: 'Cluster: only terminating endpoints exist',
      policy: 'Cluster',
      eps: [
        ['10.0.1.2', false, true, true, me],
        ['10.0.1.3', false, true, true, me],
        ['10.0.1.4', false, false, true, 'another-node'],
        ['10.0.1.5', false, true, true, 'another-node'],
      ],
      pod: '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80',
      ext: '10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80',
      masq: true,
    },
    {
      name: 'Cluster: terminating endpoints on a remote node',
      policy: 'Cluster',
      eps: [['10.0.1.5', false, true, true, 'node-1']],
      pod: '10.0.1.5:80',
      ext: '10.0.1.5:80',
      masq: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { svc, slice } = terminatingCase(c.policy, c.eps);
      const n = node([svc], [slice]);
      expectFlows(n, [
        { name: 'pod to clusterIP', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: c.pod },
        { name: 'external to LB', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: c.ext, masq: c.masq },
      ]);
      n.proxier.onEndpointSliceDelete(slice);
      n.sync();
      expectFlows(
        n,
        [
          { name: 'pod after delete', sourceIP: '10.0.0.2', destIP: '172.30.1.1', destPort: 80, output: 'REJECT' },
          { name: 'external after delete', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: 'REJECT' },
        ],
        2,
      );
    });
  }
});

describe('TestInternalExternalMasquerade', () => {
  const services = () => [
    makeService('ns1', 'svc1', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '172.30.0.41';
      s.spec.ports = [tcpPort('p80', 80, 3001)];
      s.spec.healthCheckNodePort = 30001;
      s.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
    }),
    makeService('ns2', 'svc2', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '172.30.0.42';
      s.spec.ports = [tcpPort('p80', 80, 3002)];
      s.spec.healthCheckNodePort = 30002;
      s.spec.externalTrafficPolicy = 'Local';
      s.status = { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } };
    }),
    makeService('ns3', 'svc3', (s) => {
      s.spec.type = 'LoadBalancer';
      s.spec.clusterIP = '172.30.0.43';
      s.spec.ports = [tcpPort('p80', 80, 3003)];
      s.spec.healthCheckNodePort = 30003;
      s.spec.internalTrafficPolicy = 'Local';
      s.status = { loadBalancer: { ingress: [{ ip: '9.10.11.12' }] } };
    }),
  ];
  const slices = () =>
    [1, 2, 3].map((i) =>
      makeSlice(`ns${i}`, `svc${i}`, 1, (e) => {
        e.endpoints = [
          { addresses: [`10.180.0.${i}`], nodeName: TEST_NODE_NAME },
          { addresses: [`10.180.1.${i}`], nodeName: 'remote' },
        ];
        e.ports = [tcpPort('p80', 80)];
      }),
    );
  const all = (i: number) => `10.180.0.${i}:80, 10.180.1.${i}:80`;
  const base: Flow[] = [
    { name: 'pod to ClusterIP', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: all(1) },
    { name: 'pod to NodePort', sourceIP: '10.0.0.2', destIP: NODE, destPort: 3001, output: all(1), masq: true },
    { name: 'pod to LB', sourceIP: '10.0.0.2', destIP: '1.2.3.4', destPort: 80, output: all(1), masq: true },
    { name: 'node to ClusterIP', sourceIP: NODE, destIP: '172.30.0.41', destPort: 80, output: all(1), masq: true },
    { name: 'node to NodePort', sourceIP: NODE, destIP: NODE, destPort: 3001, output: all(1), masq: true },
    {
      name: 'localhost to NodePort',
      sourceIP: '127.0.0.1',
      destIP: '127.0.0.1',
      destPort: 3001,
      output: all(1),
      masq: true,
    },
    { name: 'node to LB', sourceIP: NODE, destIP: '1.2.3.4', destPort: 80, output: all(1), masq: true },
    { name: 'external to ClusterIP', sourceIP: EXT, destIP: '172.30.0.41', destPort: 80, output: all(1), masq: true },
    { name: 'external to NodePort', sourceIP: EXT, destIP: NODE, destPort: 3001, output: all(1), masq: true },
    { name: 'external to LB', sourceIP: EXT, destIP: '1.2.3.4', destPort: 80, output: all(1), masq: true },
    {
      name: 'pod to ClusterIP with eTP:Local',
      sourceIP: '10.0.0.2',
      destIP: '172.30.0.42',
      destPort: 80,
      output: all(2),
    },
    { name: 'pod to NodePort with eTP:Local', sourceIP: '10.0.0.2', destIP: NODE, destPort: 3002, output: all(2) },
    { name: 'pod to LB with eTP:Local', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: all(2) },
    {
      name: 'node to ClusterIP with eTP:Local',
      sourceIP: NODE,
      destIP: '172.30.0.42',
      destPort: 80,
      output: all(2),
      masq: true,
    },
    {
      name: 'node to NodePort with eTP:Local',
      sourceIP: NODE,
      destIP: NODE,
      destPort: 3001,
      output: all(1),
      masq: true,
    },
    {
      name: 'localhost to NodePort with eTP:Local',
      sourceIP: '127.0.0.1',
      destIP: '127.0.0.1',
      destPort: 3002,
      output: all(2),
      masq: true,
    },
    { name: 'node to LB with eTP:Local', sourceIP: NODE, destIP: '5.6.7.8', destPort: 80, output: all(2), masq: true },
    {
      name: 'external to ClusterIP with eTP:Local',
      sourceIP: EXT,
      destIP: '172.30.0.42',
      destPort: 80,
      output: all(2),
      masq: true,
    },
    {
      name: 'external to NodePort with eTP:Local',
      sourceIP: EXT,
      destIP: NODE,
      destPort: 3002,
      output: '10.180.0.2:80',
    },
    { name: 'external to LB with eTP:Local', sourceIP: EXT, destIP: '5.6.7.8', destPort: 80, output: '10.180.0.2:80' },
    {
      name: 'pod to ClusterIP with iTP:Local',
      sourceIP: '10.0.0.2',
      destIP: '172.30.0.43',
      destPort: 80,
      output: '10.180.0.3:80',
    },
    {
      name: 'pod to NodePort with iTP:Local',
      sourceIP: '10.0.0.2',
      destIP: NODE,
      destPort: 3003,
      output: all(3),
      masq: true,
    },
    {
      name: 'pod to LB with iTP:Local',
      sourceIP: '10.0.0.2',
      destIP: '9.10.11.12',
      destPort: 80,
      output: all(3),
      masq: true,
    },
    {
      name: 'node to ClusterIP with iTP:Local',
      sourceIP: NODE,
      destIP: '172.30.0.43',
      destPort: 80,
      output: '10.180.0.3:80',
      masq: true,
    },
    {
      name: 'node to NodePort with iTP:Local',
      sourceIP: NODE,
      destIP: NODE,
      destPort: 3003,
      output: all(3),
      masq: true,
    },
    {
      name: 'localhost to NodePort with iTP:Local',
      sourceIP: '127.0.0.1',
      destIP: '127.0.0.1',
      destPort: 3003,
      output: all(3),
      masq: true,
    },
    {
      name: 'node to LB with iTP:Local',
      sourceIP: NODE,
      destIP: '9.10.11.12',
      destPort: 80,
      output: all(3),
      masq: true,
    },
    {
      name: 'external to ClusterIP with iTP:Local',
      sourceIP: EXT,
      destIP: '172.30.0.43',
      destPort: 80,
      output: '10.180.0.3:80',
      masq: true,
    },
    {
      name: 'external to NodePort with iTP:Local',
      sourceIP: EXT,
      destIP: NODE,
      destPort: 3003,
      output: all(3),
      masq: true,
    },
    {
      name: 'external to LB with iTP:Local',
      sourceIP: EXT,
      destIP: '9.10.11.12',
      destPort: 80,
      output: all(3),
      masq: true,
    },
  ];
  const variants: {
    name: string;
    masqueradeAll: boolean;
    detector: boolean;
    overrides: Record<string, Partial<Flow>>;
  }[] = [
    { name: 'base', masqueradeAll: false, detector: true, overrides: {} },
    {
      name: 'no LocalTrafficDetector',
      masqueradeAll: false,
      detector: false,
      overrides: {
        'node to ClusterIP': { masq: false },
        'node to ClusterIP with eTP:Local': { masq: false },
        'node to ClusterIP with iTP:Local': { masq: false },
        'external to ClusterIP': { masq: false },
        'external to ClusterIP with eTP:Local': { masq: false },
        'external to ClusterIP with iTP:Local': { masq: false },
        'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
        'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
      },
    },
    {
      name: 'masqueradeAll',
      masqueradeAll: true,
      detector: true,
      overrides: {
        'pod to ClusterIP': { masq: true },
        'pod to ClusterIP with eTP:Local': { masq: true },
        'pod to ClusterIP with iTP:Local': { masq: true },
      },
    },
    {
      name: 'masqueradeAll, no LocalTrafficDetector',
      masqueradeAll: true,
      detector: false,
      overrides: {
        'pod to ClusterIP': { masq: true },
        'pod to ClusterIP with eTP:Local': { masq: true },
        'pod to ClusterIP with iTP:Local': { masq: true },
        'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
        'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
      },
    },
  ];
  for (const v of variants) {
    it(v.name, () => {
      const n = node(services(), slices(), {
        masqueradeAll: v.masqueradeAll,
        ...(v.detector ? {} : { clusterCIDR: undefined }),
      });
      expectFlows(
        n,
        base.map((f) => ({ ...f, ...(v.overrides[f.name] ?? {}) })),
        16,
      );
    });
  }
});

describe('load balancing and affinity through the engine', () => {
  it('spreads new connections over endpoints as the statistic probabilities say', () => {
    const n = node(
      [
        makeService('ns1', 'svc1', (s) => {
          s.spec.clusterIP = '172.30.0.41';
          s.spec.ports = [tcpPort('p80', 80)];
        }),
      ],
      [
        makeSlice('ns1', 'svc1', 1, (e) => {
          e.endpoints = [1, 2, 3, 4].map((i) => ({ addresses: [`10.180.0.${i}`] }));
          e.ports = [tcpPort('p80', 80)];
        }),
      ],
    );
    const runs = 4000;
    const s = runFlow(
      n,
      { name: 'spread', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: '' },
      runs,
    );
    expect(s.counts.size).toBe(4);
    // Each endpoint expects runs/4 = 1000 with sd ≈ 27; allow 5 sd.
    for (const c of s.counts.values()) expect(Math.abs(c - runs / 4)).toBeLessThan(140);
  });

  it('keeps a client on one endpoint with ClientIP affinity, per client', () => {
    const n = node(
      [
        makeService('ns1', 'svc1', (s) => {
          s.spec.clusterIP = '172.30.0.41';
          s.spec.ports = [tcpPort('p80', 80)];
          s.spec.sessionAffinity = 'ClientIP';
        }),
      ],
      [
        makeSlice('ns1', 'svc1', 1, (e) => {
          e.endpoints = [1, 2, 3].map((i) => ({ addresses: [`10.180.0.${i}`] }));
          e.ports = [tcpPort('p80', 80)];
        }),
      ],
    );
    const seen = new Set<string>();
    for (let c = 2; c < 12; c++) {
      const s = runFlow(
        n,
        { name: 'sticky', sourceIP: `10.0.0.${c}`, destIP: '172.30.0.41', destPort: 80, output: '' },
        10,
      );
      expect(s.counts.size).toBe(1);
      seen.add([...s.counts.keys()][0]!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});

describe('stale UDP conntrack cleanup', () => {
  it('deletes flows DNATed to an endpoint that left, keeps the others', () => {
    const svc = makeService('ns1', 'dns', (s) => {
      s.spec.clusterIP = '172.30.0.10';
      s.spec.type = 'NodePort';
      s.spec.ports = [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }];
    });
    const slice = (ips: string[]) =>
      makeSlice('ns1', 'dns', 1, (e) => {
        e.endpoints = ips.map((a) => ({ addresses: [a] }));
        e.ports = [{ name: 'dns', port: 53, protocol: 'UDP' }];
      });
    const first = slice(['10.180.0.1', '10.180.0.2']);
    const n = node([svc], [first]);
    for (let i = 0; i < 30; i++) n.send({ sourceIP: '10.0.0.2', destIP: '172.30.0.10', destPort: 53, protocol: 'UDP' });
    for (let i = 0; i < 10; i++) n.send({ sourceIP: EXT, destIP: NODE, destPort: 30053, protocol: 'UDP' });
    const before = conntrackList(n.ns)
      .split('\n')
      .filter((l) => l.startsWith('udp'));
    const toGone = before.filter((l) => l.includes('src=10.180.0.2 ')).length;
    expect(toGone).toBeGreaterThan(0);
    n.proxier.onEndpointSliceUpdate(first, slice(['10.180.0.1']));
    const r = n.proxier.syncProxyRules();
    expect(r.conntrackDeleted).toBe(toGone);
    expect(r.conntrackFilters).toContain('-p udp --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.180.0.2');
    expect(r.conntrackFilters).toContain('-p udp --orig-port-dst 30053 --reply-src 10.180.0.2');
    const after = conntrackList(n.ns)
      .split('\n')
      .filter((l) => l.startsWith('udp'));
    expect(after.length).toBe(before.length - toGone);
    expect(after.every((l) => !l.includes('src=10.180.0.2 '))).toBe(true);
  });
});
