// Steps against Kubernetes: Service destinations resolved when the step runs, repeated connections, and the
// expectations about the answering pod (servedBy), the source it saw (sourceSeenBy) and the spread over attempts —
// each one able to fail, with a message that says what was seen. Also the CLI's trace with a Service target.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { ProbeOutcome } from '../../src/netns/probe.js';
import { kubeOf } from '../../src/scenario/kube.js';
import { parsePodReply } from '../../src/scenario/kube-server.js';
import { parseScenario } from '../../src/scenario/loader.js';
import { describeStep, runScenario } from '../../src/scenario/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'podwire-kube-steps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** web-1 on node1, web-2 on node2 behind `web` (and `sticky`, ClientIP affinity); client on node1; a laptop. */
const BASE = [
  'name: steps',
  'seed: 4',
  'cluster:',
  '  underlay:',
  '    clients: [{ name: laptop, address: 192.168.50.100/24 }]',
  '  nodes:',
  '    - { name: node1, address: 192.168.50.11/24, podCIDR: 10.244.1.0/24 }',
  '    - { name: node2, address: 192.168.50.12/24, podCIDR: 10.244.2.0/24 }',
  '  flannel:',
  '    netConf: |',
  '      { "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }',
  '  kubernetes:',
  '    manifests:',
  '      - inline: |',
  ...`
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: c, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: v1
kind: Service
metadata: { name: sticky }
spec:
  selector: { app: web }
  sessionAffinity: ClientIP
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: busybox }] }
`
    .trim()
    .split('\n')
    .map((l) => `          ${l}`),
];

function run(steps: string[], extra: string[] = []) {
  const sc = parseScenario([...BASE, ...extra, 'steps:', ...steps, ''].join('\n'), 's.yaml');
  const report = runScenario(sc, { tracing: true });
  return { sc, report, failures: report.steps.map((s) => s.failures) };
}

const payload = (o: unknown): string | undefined => (o as ProbeOutcome).replyPayload;

describe('Service destinations', () => {
  it('are resolved through the API when the step runs, and the answer names the pod and the peer', () => {
    const { report, failures } = run([
      '  - connect: { from: client, to: "svc/web:http" }',
      '    expect: { result: reachable, servedBy: deployment/web, sourceSeenBy: client }',
      '  - connect: { from: laptop, to: "nodeport/web:80@node2" }',
      '    expect: { result: reachable, replyFrom: 192.168.50.12, servedBy: deployment/web, sourceSeenBy: node/node2 }',
      '  - ping: { from: client, to: svc/web }',
      '    expect: { result: unreachable, icmp: net-unreachable, replyFrom: 10.244.1.1 }',
    ]);
    expect(failures).toEqual([[], [], []]);
    const api = kubeOf(report.kernel)!.api;
    const ip = api.get('Service', 'default', 'web')!.spec.clusterIP!;
    expect(report.steps[0]!.outcome.lines[0]).toBe(`connected to ${ip}:80`);
    const reply = parsePodReply(payload(report.steps[0]!.outcome))!;
    expect(api.get('Pod', 'default', reply.pod)!.metadata.labels?.app).toBe('web');
    expect(reply.peer).toBe(api.get('Pod', 'default', 'client')!.status?.podIP);
    // A ping to a cluster IP: kube-proxy's iptables rules only translate the Service's ports, and node1 (no
    // default route here) has no route for the address.
    expect(JSON.stringify(report.steps[2]!.events)).toContain(`> ${ip}: ICMP echo request`);
  });

  it('are described by the reference in step titles', () => {
    const { sc } = run([
      '  - connect: { from: client, to: "svc/web:80", repeat: 3 }',
      '    expect: reachable',
      '  - ping: { from: client, to: svc/web }',
      '    expect: timeout',
      '  - scale: { deployment: web, replicas: 1 }',
      '  - delete: svc/sticky',
      '  - drain: node2',
    ]);
    expect(sc.steps.map(describeStep)).toEqual([
      'tcp client → svc/web:80 ×3',
      'ping client → svc/web',
      'kubectl scale deployment/web --replicas=1',
      'kubectl delete svc/sticky',
      'kubectl drain node2',
    ]);
  });
});

describe('expectations about the answer', () => {
  it('servedBy fails with the pod that did answer', () => {
    const { report, failures } = run([
      '  - connect: { from: client, to: "svc/web:80" }',
      '    expect: { result: reachable, servedBy: [client, node/node2] }',
    ]);
    const reply = parsePodReply(payload(report.steps[0]!.outcome))!;
    const node = kubeOf(report.kernel)!.sandbox(reply.pod)!.node;
    expect(failures[0]).toEqual(
      node === 'node2' ? [] : [`expected the answer from client or node/node2, got pod ${reply.pod} on ${node}`],
    );
    const again = run([
      '  - connect: { from: client, to: "svc/web:80" }',
      '    expect: { result: reachable, servedBy: client }',
    ]);
    const r2 = parsePodReply(payload(again.report.steps[0]!.outcome))!;
    expect(again.failures[0]![0]).toMatch(
      new RegExp(`^expected the answer from client, got pod ${r2.pod} on node[12]$`),
    );
  });

  it('sourceSeenBy fails with the address the pod saw', () => {
    const { report, failures } = run([
      '  - connect: { from: laptop, to: "nodeport/web:80@node1" }',
      '    expect: { result: reachable, sourceSeenBy: client }',
      '  - connect: { from: client, to: "svc/web:80" }',
      '    expect: { result: reachable, sourceSeenBy: node/node1 }',
    ]);
    const a = parsePodReply(payload(report.steps[0]!.outcome))!;
    expect(failures[0]).toEqual([
      `expected pod ${a.pod} to see the source the client's own address (192.168.50.100), it saw ${a.peer}:${a.peerPort}`,
    ]);
    expect(a.peer).toMatch(/^10\.244\.1\.[01]$/); // node1's cni0 or flannel.1 address
    const b = parsePodReply(payload(report.steps[1]!.outcome))!;
    expect(failures[1]).toEqual([
      `expected pod ${b.pod} to see the source an address of node node1, it saw ${b.peer}:${b.peerPort}`,
    ]);
  });

  it("an answer that is not a pod server's fails servedBy, and so does no answer", () => {
    const { failures } = run(
      [
        '  - connect: { from: client, to: "192.168.50.12:10250" }',
        '    expect: { result: reachable, servedBy: client }',
        '  - connect: { from: client, to: "192.168.50.12:10251" }',
        '    expect: { result: refused, sourceSeenBy: client }',
      ],
      ['listen:', '  - { ns: node2, proto: tcp, port: 10250, reply: "kubelet" }'],
    );
    expect(failures).toEqual([
      [`expected an answer from a pod's server ("<pod> <client ip>:<port>"), got "kubelet"`],
      [`expected an answer from a pod's server ("<pod> <client ip>:<port>"), got no answer`],
    ]);
  });

  it('repeat runs every attempt, spread checks the pods across them, each attempt is checked', () => {
    const { report, failures } = run([
      '  - connect: { from: client, to: "svc/sticky:80", repeat: 5 }',
      '    expect: { result: reachable, servedBy: deployment/web, spread: false }',
      '  - connect: { from: client, to: "svc/sticky:80", repeat: 4 }',
      '    expect: { result: reachable, spread: true }',
      '  - connect: { from: client, to: "svc/web:80", repeat: 3 }',
      '    expect: { result: refused }',
    ]);
    const lines = report.steps[0]!.outcome.lines;
    expect(lines).toHaveLength(5);
    const pods = lines.map((l) => /^attempt \d: reachable — "(\S+) /.exec(l)![1]);
    expect(new Set(pods).size).toBe(1);
    expect(failures[0]).toEqual([]);
    expect(failures[1]).toEqual([`expected more than one pod to answer over 4 attempts, only ${pods[0]} did`]);
    expect(failures[2]).toEqual([
      'attempt 1/3: expected refused, got reachable',
      'attempt 2/3: expected refused, got reachable',
      'attempt 3/3: expected refused, got reachable',
    ]);
  });

  it('spread: false fails when the connections are shared', () => {
    const { failures, report } = run([
      '  - connect: { from: client, to: "svc/web:80", repeat: 8 }',
      '    expect: { result: reachable, spread: false }',
    ]);
    const pods = [...new Set(report.steps[0]!.outcome.lines.map((l) => /"(\S+) /.exec(l)![1]))];
    expect(pods.length).toBeGreaterThan(1);
    expect(failures[0]).toEqual([`expected one pod to answer all 8 attempts, got ${pods.join(', ')}`]);
  });

  it('via names a pod by its name', () => {
    const { failures, report } = run([
      '  - connect: { from: client, to: "svc/web:80" }',
      '    expect: { result: reachable, via: ["client:eth0", "node1:cni0"] }',
      '  - connect: { from: client, to: "svc/web:80" }',
      '    expect: { result: reachable, via: ["laptop:eth0"] }',
    ]);
    expect(failures).toEqual([[], ['expected the packets to cross laptop:eth0']]);
    expect(report.steps[0]!.events.some((e) => e.ns.startsWith('cni-') && e.type === 'dev')).toBe(true);
  });
});

describe('podwire trace with a Service', () => {
  it('resolves svc/… and nodeport/… targets', async () => {
    const file = join(tmp, 'steps.yaml');
    writeFileSync(file, [...BASE, ''].join('\n'));
    let out = '';
    const code = await main(['trace', file, '--from', 'laptop', '--to', 'nodeport/web:80@node1'], {
      out: (s) => (out += s),
      err: () => {},
    });
    expect(code).toBe(0);
    expect(out).toContain('192.168.50.100');
    expect(out).toMatch(/DNAT 192\.168\.50\.11:30080 → 10\.244\.\d\.\d+:8080/);
    expect(out.trim().split('\n').at(-1)).toMatch(/^result: reachable; reply from 192\.168\.50\.11/);
    let err = '';
    const bad = await main(['trace', file, '--from', 'client', '--to', 'svc/nope:80'], {
      out: () => {},
      err: (s) => (err += s),
    });
    expect(bad).toBe(2);
    expect(err).toContain('svc/nope:80: service "nope" not found in namespace "default"');
  });
});
