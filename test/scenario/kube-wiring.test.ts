// Kubernetes wired into a scenario's cluster: the control plane knows the nodes (address, flannel lease), pods the
// control plane creates run in real sandboxes through the CNI runtime and are reported back (Running, podIP =
// their eth0 address), each node's kube-proxy writes its rules into the node's namespace after every change, pods
// and nodes come and go with scale, drain, delete and leave, and the load-balancer provider hands out addresses.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { iptablesSave } from '../../src/iptables/index.js';
import { isPodReady, podKey } from '../../src/kube/index.js';
import type { Kernel } from '../../src/netns/kernel.js';
import { kubeOf } from '../../src/scenario/kube.js';
import { loadScenario, parseScenario } from '../../src/scenario/loader.js';
import { buildScenario, playStep, runScenario, scenarioNs } from '../../src/scenario/runner.js';
import { formatIpv4 } from '../../src/wire/addr.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');

/** A flannel cluster of `nodes` nodes; `manifest` (YAML) applied at start, `rest` appended. */
function cluster(manifest: string, rest: string[] = [], opts: { nodes?: number; kube?: string[]; seed?: number } = {}) {
  const nodes = Array.from(
    { length: opts.nodes ?? 2 },
    (_, i) => `    - { name: node${i + 1}, address: 192.168.50.${11 + i}/24, podCIDR: 10.244.${i + 1}.0/24 }`,
  );
  return [
    'name: wiring',
    `seed: ${opts.seed ?? 1}`,
    'cluster:',
    '  nodes:',
    ...nodes,
    '  flannel:',
    '    netConf: |',
    '      { "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }',
    '  kubernetes:',
    ...(opts.kube ?? []),
    '    manifests:',
    '      - inline: |',
    ...manifest
      .trim()
      .split('\n')
      .map((l) => `          ${l}`),
    ...rest,
    '',
  ].join('\n');
}

const deployment = (name: string, replicas: number, port = 8080) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: c, image: nginx, ports: [{ containerPort: ${port} }] }]
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: ${port} }]
`;

function build(text: string): Kernel {
  return buildScenario(parseScenario(text, 'w.yaml'), { tracing: false });
}

function kube(k: Kernel) {
  const r = kubeOf(k);
  if (!r) throw new Error('no Kubernetes in this kernel');
  return r;
}

describe('the control plane and the nodes', () => {
  const k = buildScenario(loadScenario(join(SCENARIOS, 'k8s-demo.yaml')), { tracing: false });
  const api = kube(k).api;

  it('registers every node with its address and its flannel lease as podCIDR', () => {
    expect(api.list('Node').map((n) => [n.metadata.name, n.status?.addresses?.[0]?.address, n.spec.podCIDR])).toEqual([
      ['node1', '192.168.50.11', '10.244.1.0/24'],
      ['node2', '192.168.50.12', '10.244.2.0/24'],
    ]);
    expect(api.get('EndpointSlice', 'default', 'kubernetes')!.endpoints[0]!.addresses).toEqual(['192.168.50.11']);
  });

  it('runs every pod in a sandbox whose eth0 address is its podIP, on its node, by its name', () => {
    const pods = api.list('Pod');
    expect(pods).toHaveLength(4);
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running');
      expect(isPodReady(p)).toBe(true);
      const ns = scenarioNs(k, p.metadata.name)!;
      expect(ns.name).toMatch(/^cni-/);
      const eth0 = ns.addrs.find((a) => a.dev.name === 'eth0')!;
      expect(formatIpv4(eth0.addr)).toBe(p.status?.podIP);
      const node = api.get('Node', undefined, p.spec.nodeName!)!;
      expect(p.status?.hostIP).toBe(node.status?.addresses?.[0]?.address);
      expect(p.status?.podIP?.startsWith(node.spec.podCIDR!.slice(0, 9))).toBe(true);
    }
    // The scheduler spread the Deployment over both nodes.
    const web = pods.filter((p) => p.metadata.labels?.app === 'web');
    expect(new Set(web.map((p) => p.spec.nodeName))).toEqual(new Set(['node1', 'node2']));
  });

  it("writes kube-proxy's rules into every node, for every Service with endpoints", () => {
    const web = api.get('Service', 'default', 'web')!;
    for (const node of ['node1', 'node2']) {
      const ns = scenarioNs(k, node)!;
      const save = iptablesSave(ns, { table: 'nat' });
      expect(save).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
      expect(save).toMatch(
        new RegExp(`-A KUBE-SERVICES -d ${web.spec.clusterIP!.replaceAll('.', '\\.')}/32 -p tcp .* -j KUBE-SVC-`),
      );
      expect(save.match(/^-A KUBE-SEP-\S+ -p tcp -m comment --comment "default\/web:http"/gm)).toHaveLength(3);
      expect(save).toContain('--dport 30080 -j KUBE-EXT-');
      expect(ns.sysctl.get('net.ipv4.ip_forward')).toBe('1');
      expect(ns.sysctl.get('net.ipv4.conf.all.route_localnet')).toBe('1');
    }
  });

  it('`podwire show <scenario> <node> iptables` prints the KUBE-* chains', async () => {
    let out = '';
    const code = await main(['show', join(SCENARIOS, 'k8s-demo.yaml'), 'node2', 'iptables'], {
      out: (s) => (out += s),
      err: () => {},
    });
    expect(code).toBe(0);
    for (const chain of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-FORWARD'])
      expect(out).toContain(`:${chain} - [0:0]`);
    expect(out).toMatch(/^:KUBE-SVC-[A-Z0-9]{16} - \[0:0\]$/m);
  });

  it('is deterministic: the same seed gives the same rules, another seed other cluster IPs', () => {
    const text = cluster(deployment('web', 2));
    const a = iptablesSave(scenarioNs(build(text), 'node1')!);
    const b = iptablesSave(scenarioNs(build(text), 'node1')!);
    expect(b).toBe(a);
    const c = iptablesSave(scenarioNs(build(cluster(deployment('web', 2), [], { seed: 2 })), 'node1')!);
    expect(c).not.toBe(a);
  });
});

describe('Services kube-proxy writes no rules for', () => {
  const k = buildScenario(loadScenario(join(SCENARIOS, 'k8s-no-endpoints.yaml')), { tracing: false });
  const save = iptablesSave(scenarioNs(k, 'node1')!);

  it('ExternalName and headless Services appear nowhere', () => {
    expect(kube(k).api.get('Service', 'default', 'docs')!.spec.type).toBe('ExternalName');
    expect(kube(k).api.get('Service', 'default', 'db')!.spec.clusterIP).toBe('None');
    expect(save).not.toContain('default/docs');
    expect(save).not.toContain('default/db');
  });

  it('a Service without endpoints has REJECT rules in filter and no KUBE-SVC chain', () => {
    const ip = kube(k).api.get('Service', 'default', 'empty')!.spec.clusterIP!;
    expect(save).toContain(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "default/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`,
    );
    expect(save).toContain('"default/empty:echo has no endpoints" -m udp --dport 4000 -j REJECT');
    // Only the kubernetes Service has a service chain.
    expect(save.match(/^:KUBE-SVC-/gm)).toHaveLength(1);
    expect(save).not.toMatch(/KUBE-SVC-.*default\/empty/);
  });
});

describe('pods follow the control plane', () => {
  it('scaling down deletes the sandboxes and their names; scaling up starts new ones', () => {
    const sc = parseScenario(
      cluster(deployment('web', 3), [
        'steps:',
        '  - scale: { deployment: web, replicas: 1 }',
        '  - scale: { deployment: web, replicas: 2 }',
        '  - apply: |',
        '      apiVersion: v1',
        '      kind: Namespace',
        '      metadata: { name: shop }',
      ]),
      'w.yaml',
    );
    const k = buildScenario(sc, { tracing: false });
    const api = kube(k).api;
    const before = api.list('Pod').map((p) => ({ name: p.metadata.name, ns: scenarioNs(k, p.metadata.name)!.name }));
    expect(before).toHaveLength(3);
    const down = playStep(k, sc.steps[0]!);
    expect(down.lines[0]).toBe('deployment.apps/web scaled');
    expect(down.lines.filter((l) => / stopped on node\d$/.test(l))).toHaveLength(2);
    expect(down.lines.at(-1)).toBe('kube-proxy synced iptables on node1, node2');
    const left = api.list('Pod').map((p) => p.metadata.name);
    expect(left).toHaveLength(1);
    for (const p of before.filter((b) => !left.includes(b.name))) {
      expect(scenarioNs(k, p.name)).toBeUndefined();
      expect(k.namespaces.has(p.ns)).toBe(false);
    }
    const save = iptablesSave(scenarioNs(k, 'node2')!, { table: 'nat' });
    expect(save.match(/^-A KUBE-SEP-\S+ -p tcp -m comment --comment "default\/web"/gm)).toHaveLength(1);
    const up = playStep(k, sc.steps[1]!);
    expect(up.lines.filter((l) => / started on node\d: 10\.244\.\d\.\d+, serving 8080\/tcp$/.test(l))).toHaveLength(1);
    expect(api.list('Pod').every((p) => p.status?.phase === 'Running')).toBe(true);
    // A change kube-proxy does not watch makes no sync.
    expect(playStep(k, sc.steps[2]!).lines).toEqual(['namespace/shop created']);
  });

  it('a cordoned node gets no new pods; a drained node keeps none', () => {
    const sc = parseScenario(
      cluster(deployment('web', 2), [
        'steps:',
        '  - cordon: node2',
        '  - scale: { deployment: web, replicas: 4 }',
        '  - drain: node1',
      ]),
      'w.yaml',
    );
    const k = buildScenario(sc, { tracing: false });
    const api = kube(k).api;
    const on = (node: string) => api.list('Pod', undefined, (p) => p.spec.nodeName === node).length;
    expect([on('node1'), on('node2')]).toEqual([1, 1]);
    expect(playStep(k, sc.steps[0]!).lines[0]).toBe('node/node2 cordoned');
    playStep(k, sc.steps[1]!);
    expect([on('node1'), on('node2')]).toEqual([3, 1]);
    const drain = playStep(k, sc.steps[2]!);
    expect(drain.lines.filter((l) => l.startsWith('evicting pod default/web-'))).toHaveLength(3);
    // Both nodes are cordoned now: the evicted pods' replacements stay Pending.
    expect(on('node1')).toBe(0);
    const pending = api.list('Pod', undefined, (p) => !p.spec.nodeName);
    expect(pending).toHaveLength(3);
    expect(pending.every((p) => scenarioNs(k, p.metadata.name) === undefined)).toBe(true);
  });

  it('a node that leaves takes its Node object, its pods and its kube-proxy with it', () => {
    const sc = parseScenario(cluster(deployment('web', 3), ['steps:', '  - leave: node3'], { nodes: 3 }), 'w.yaml');
    const k = buildScenario(sc, { tracing: false });
    const r = kube(k);
    const onNode3 = r.api.list('Pod', undefined, (p) => p.spec.nodeName === 'node3').map(podKey);
    expect(onNode3).toHaveLength(1);
    expect(iptablesSave(scenarioNs(k, 'node1')!, { table: 'nat' })).toContain('--to-destination 10.244.3.2:8080');
    const lines = playStep(k, sc.steps[0]!).lines;
    expect(lines).toContain('node "node3" deleted');
    expect(r.api.get('Node', undefined, 'node3')).toBeUndefined();
    expect([...r.proxiers.keys()]).toEqual(['node1', 'node2']);
    const pods = r.api.list('Pod');
    expect(pods).toHaveLength(3);
    expect(pods.map((p) => [p.spec.nodeName !== 'node3', p.status?.phase])).toEqual([
      [true, 'Running'],
      [true, 'Running'],
      [true, 'Running'],
    ]);
    expect(pods.map(podKey)).not.toContain(onNode3[0]);
    const slice = r.api.list('EndpointSlice', 'default', (s) => s.metadata.name.startsWith('web-'))[0]!;
    expect(slice.endpoints.map((e) => e.nodeName).sort()).not.toContain('node3');
    expect(iptablesSave(scenarioNs(k, 'node1')!, { table: 'nat' })).not.toContain('10.244.3.');
  });
});

describe('pod servers', () => {
  it('answer on every container port, TCP and UDP, with the pod name and the peer they saw; hostPorts map', () => {
    const text = cluster(
      `
apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  nodeName: node2
  containers:
    - name: a
      image: nginx
      ports: [{ containerPort: 8080, hostPort: 8888 }]
    - name: b
      image: dns
      ports: [{ containerPort: 4000, protocol: UDP }]
`,
      [
        'steps:',
        '  - connect: { from: node1, to: "10.244.2.2:8080" }',
        '    expect: reachable',
        '  - connect: { from: node1, to: "10.244.2.2:4000", proto: udp, payload: x }',
        '    expect: reachable',
        '  - connect: { from: node1, to: "192.168.50.12:8888" }',
        '    expect: reachable',
        '  - connect: { from: node1, to: "10.244.2.2:9999" }',
        '    expect: refused',
      ],
    );
    const report = runScenario(parseScenario(text, 'w.yaml'), { tracing: false });
    expect(report.steps.flatMap((s) => s.failures)).toEqual([]);
    const replies = report.steps.map((s) => ('replyPayload' in s.outcome ? s.outcome.replyPayload : undefined));
    // node1 reaches node2's pods from its flannel.1 address; through the hostPort the pod sees the node, DNATed.
    expect(replies[0]).toMatch(/^web 10\.244\.1\.0:\d+$/);
    expect(replies[1]).toMatch(/^web 10\.244\.1\.0:\d+$/);
    expect(replies[2]).toMatch(/^web 192\.168\.50\.11:\d+$/);
  });
});

describe('the load-balancer provider', () => {
  const lb = (name: string, extra = '') => `
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  type: LoadBalancer
  ${extra}
  ports: [{ port: 80 }]
`;

  it('hands out requested addresses and the pool in order, and takes them back', () => {
    const sc = parseScenario(
      cluster(
        `${lb('a')}---${lb('b', 'loadBalancerIP: 192.168.50.250')}---${lb('c')}`,
        ['steps:', '  - delete: svc/a'],
        {
          kube: ['    loadBalancerPool: 192.168.50.240/30'],
        },
      ),
      'w.yaml',
    );
    const k = buildScenario(sc, { tracing: false });
    const api = kube(k).api;
    const ingress = (n: string) => api.get('Service', 'default', n)?.status?.loadBalancer?.ingress;
    expect([ingress('a'), ingress('b'), ingress('c')]).toEqual([
      [{ ip: '192.168.50.240' }],
      [{ ip: '192.168.50.250' }],
      [{ ip: '192.168.50.241' }],
    ]);
    // No endpoints: the filter table rejects what reaches the address.
    const save = iptablesSave(scenarioNs(k, 'node1')!, { table: 'filter' });
    expect(save).toContain(
      '-A KUBE-EXTERNAL-SERVICES -d 192.168.50.250/32 -p tcp -m comment --comment "default/b has no endpoints"',
    );
    playStep(k, sc.steps[0]!);
    api.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'd' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    expect(ingress('d')).toEqual([{ ip: '192.168.50.240' }]);
  });

  it('without a pool only a requested address is published', () => {
    const k = build(cluster(`${lb('a')}---${lb('b', 'loadBalancerIP: 192.168.50.250')}`));
    const api = kube(k).api;
    expect(api.get('Service', 'default', 'a')!.status?.loadBalancer?.ingress).toBeUndefined();
    expect(api.get('Service', 'default', 'b')!.status?.loadBalancer?.ingress).toEqual([{ ip: '192.168.50.250' }]);
  });
});
