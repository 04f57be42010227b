// The Kubernetes parts of a scenario file: `cluster.kubernetes` and the steps and expectations that use it are read
// into the typed form, and every mistake — in the scenario, inside an inline manifest, in a manifest file, or only
// found when the cluster applies a manifest or runs a step — is one ScenarioError at the right line and column.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parseScenario } from '../../src/scenario/loader.js';
import { buildScenario, runScenario } from '../../src/scenario/runner.js';
import type { ActionStep, ConnectStep, PingStep } from '../../src/scenario/types.js';
import { parseIpv4 } from '../../src/wire/addr.js';

const tmp = mkdtempSync(join(tmpdir(), 'podwire-kube-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WEB = [
  '          apiVersion: v1',
  '          kind: Pod',
  '          metadata: { name: web, labels: { app: web } }',
  '          spec:',
  '            nodeName: node1',
  '            containers: [{ name: web, image: nginx, ports: [{ containerPort: 8080 }] }]',
  '          ---',
  '          apiVersion: v1',
  '          kind: Service',
  '          metadata: { name: web }',
  '          spec:',
  '            selector: { app: web }',
  '            ports: [{ name: http, port: 80, targetPort: 8080 }]',
];

/** A two-node flannel cluster; `kube` are lines under `kubernetes:` (omitted when null), `rest` follows. */
function scenario(kube: string[] | null, rest: string[] = []): string {
  return [
    'name: kube',
    'cluster:',
    '  nodes:',
    '    - { name: node1, address: 192.168.50.11/24 }',
    '    - { name: node2, address: 192.168.50.12/24 }',
    '  flannel:',
    '    netConf: |',
    '      { "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }',
    ...(kube === null ? [] : ['  kubernetes:', ...kube]),
    ...rest,
    '',
  ].join('\n');
}

const withWeb = (rest: string[] = []) => scenario(['    manifests:', '      - inline: |', ...WEB], rest);

/** 1-based line and column of the first occurrence of `needle` in `text` (after `from`). */
function where(text: string, needle: string, from = 0): { line: number; col: number } {
  const at = text.indexOf(needle, from);
  if (at < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

function loadFailure(text: string, file = 's.yaml'): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

function buildFailure(text: string, file = 's.yaml'): ScenarioError {
  try {
    buildScenario(parseScenario(text, file), { tracing: false });
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('built without error');
}

function runFailure(text: string, file = 's.yaml'): ScenarioError {
  try {
    runScenario(parseScenario(text, file), { tracing: false });
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('ran without error');
}

const pos = (e: ScenarioError) => ({ line: e.line, col: e.col });

describe('cluster.kubernetes', () => {
  it('reads the defaults, kube-proxy options and manifests', () => {
    const text = scenario([
      '    kubeProxy: { masqueradeAll: true, nodePortAddresses: [192.168.50.0/24] }',
      '    loadBalancerPool: 192.168.50.240/29',
      '    manifests:',
      '      - inline: |',
      ...WEB,
    ]);
    const k = parseScenario(text, 's.yaml').cluster!.kubernetes!;
    expect(k.serviceCIDR).toBe('10.96.0.0/12');
    expect(k.nodePortRange).toBe('30000-32767');
    expect(k.kubeProxy).toEqual({
      masqueradeAll: true,
      masqueradeBit: 14,
      nodePortAddresses: ['192.168.50.0/24'],
      localhostNodePorts: true,
    });
    expect(k.loadBalancerPool).toEqual({ addr: parseIpv4('192.168.50.240'), len: 29 });
    expect(k.manifests).toHaveLength(1);
    expect(k.manifests[0]!.text).toContain('kind: Service');
    // The manifest's line 1 is the first line of the block.
    expect(k.manifests[0]!.locate(1, 1)).toEqual({ file: 's.yaml', ...where(text, 'apiVersion: v1') });
  });

  it('a YAML error inside an inline manifest points at its character in the scenario file', () => {
    const text = scenario([
      '    manifests:',
      '      - inline: |',
      '          apiVersion: v1',
      '          kind: Pod',
      '          metadata: { name: [web }',
    ]);
    const e = loadFailure(text);
    expect(e.message).toMatch(/^error parsing YAML: /);
    expect(e.line).toBe(where(text, 'metadata: { name: [').line);
  });

  it('an unknown field inside an inline manifest points at the key', () => {
    const text = scenario([
      '    manifests:',
      '      - inline: |',
      '          apiVersion: v1',
      '          kind: Service',
      '          metadata: { name: web }',
      '          spec:',
      '            ports: [{ port: 80, tragetPort: 8080 }]',
    ]);
    const e = loadFailure(text);
    expect(pos(e)).toEqual(where(text, 'tragetPort'));
    expect(e.message).toContain('unknown field "spec.ports[0].tragetPort"');
  });

  it('an invalid object is refused at load, at its field', () => {
    const text = scenario([
      '    manifests:',
      '      - inline: |',
      '          apiVersion: v1',
      '          kind: Service',
      '          metadata: { name: Web }',
      '          spec: { ports: [{ port: 80 }] }',
    ]);
    const e = loadFailure(text);
    expect(pos(e)).toEqual(where(text, 'Web'));
    expect(e.message).toMatch(/^Service "Web" is invalid: metadata\.name: Invalid value: "Web"/);
  });

  it('a manifest file is read relative to the scenario and its errors point into it', () => {
    writeFileSync(join(tmp, 'bad.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n');
    const text = scenario(['    manifests:', '      - file: bad.yaml']);
    const e = loadFailure(text, join(tmp, 's.yaml'));
    expect({ file: e.file, ...pos(e) }).toEqual({ file: join(tmp, 'bad.yaml'), line: 2, col: 7 });
    expect(e.message).toContain('kind "ConfigMap" is not supported by podwire');
    const missing = loadFailure(scenario(['    manifests:', '      - file: nope.yaml']), join(tmp, 's.yaml'));
    expect(missing.message).toMatch(/^cannot read manifest: /);
    expect(missing.file).toBe(join(tmp, 's.yaml'));
  });

  it('a bad service CIDR or node port range is an error at the field', () => {
    const cidr = scenario(['    serviceCIDR: 10.96.0.0/33']);
    expect(pos(loadFailure(cidr))).toEqual(where(cidr, '10.96.0.0/33'));
    const range = scenario(['    nodePortRange: 32767-30000']);
    const e = loadFailure(range);
    expect(pos(e)).toEqual(where(range, '32767-30000'));
    expect(e.message).toBe('invalid port range "32767-30000"');
    const words = scenario(['    nodePortRange: low-high']);
    expect(loadFailure(words).message).toBe(
      "cluster.kubernetes.nodePortRange: expected a port range like 30000-32767, got 'low-high'",
    );
  });

  it('what only the live cluster can refuse is reported when the manifest is applied, at its place', () => {
    const text = scenario([
      '    manifests:',
      '      - inline: |',
      '          apiVersion: v1',
      '          kind: Service',
      '          metadata: { name: a }',
      '          spec: { clusterIP: 10.96.0.80, ports: [{ port: 80 }] }',
      '          ---',
      '          apiVersion: v1',
      '          kind: Service',
      '          metadata: { name: b }',
      '          spec: { clusterIP: 10.96.0.80, ports: [{ port: 80 }] }',
    ]);
    parseScenario(text, 's.yaml');
    const e = buildFailure(text);
    expect(pos(e)).toEqual(where(text, '10.96.0.80', text.indexOf('name: b')));
    expect(e.message).toContain('provided IP is already allocated');
  });
});

describe('Kubernetes steps', () => {
  it('are read into actions, Service destinations and expectations', () => {
    const text = withWeb([
      'steps:',
      '  - apply: |',
      '      apiVersion: v1',
      '      kind: Namespace',
      '      metadata: { name: shop }',
      '  - delete: svc/web',
      '  - delete: deploy/shop/web',
      '  - scale: { deployment: shop/web, replicas: 3 }',
      '  - cordon: node1',
      '  - uncordon: node1',
      '  - drain: node2',
      '  - connect: { from: web, to: "svc/shop/web:http", repeat: 3 }',
      '    expect: { result: reachable, servedBy: [web, deployment/web, node/node1], sourceSeenBy: node/node2, spread: true }',
      '  - connect: { from: web, to: "nodeport/web:80@node2" }',
      '    expect: { result: reachable, sourceSeenBy: 10.244.1.1 }',
      '  - ping: { from: web, to: lb/web }',
      '    expect: timeout',
    ]);
    const sc = parseScenario(text, 's.yaml');
    const actions = sc.steps.slice(0, 7).map((s) => (s as ActionStep).action);
    expect(actions[0]!.kind).toBe('apply');
    expect(actions.slice(1)).toEqual([
      { kind: 'delete', resource: 'Service', namespace: 'default', name: 'web', text: 'svc/web' },
      { kind: 'delete', resource: 'Deployment', namespace: 'shop', name: 'web', text: 'deploy/shop/web' },
      { kind: 'scale', namespace: 'shop', deployment: 'web', replicas: 3 },
      { kind: 'cordon', node: 'node1' },
      { kind: 'uncordon', node: 'node1' },
      { kind: 'drain', node: 'node2' },
    ]);
    const apply = actions[0]!;
    if (apply.kind !== 'apply') throw new Error('apply');
    expect(apply.manifest.locate(3, 11)).toEqual({ file: 's.yaml', ...where(text, '{ name: shop }') });
    const c = sc.steps[7] as ConnectStep;
    expect(c.service).toEqual({ kind: 'svc', namespace: 'shop', name: 'web', port: 'http', text: 'svc/shop/web:http' });
    expect(c.repeat).toBe(3);
    expect(c.expect.servedBy).toEqual([
      { kind: 'pod', name: 'web' },
      { kind: 'deployment', namespace: 'default', name: 'web' },
      { kind: 'node', node: 'node1' },
    ]);
    expect(c.expect.sourceSeenBy).toEqual({ kind: 'node', node: 'node2' });
    expect(c.expect.spread).toBe(true);
    const n = sc.steps[8] as ConnectStep;
    expect(n.service).toEqual({
      kind: 'nodeport',
      namespace: 'default',
      name: 'web',
      port: 80,
      node: 'node2',
      text: 'nodeport/web:80@node2',
    });
    expect(n.expect.sourceSeenBy).toEqual({ kind: 'ip', ip: parseIpv4('10.244.1.1') });
    expect((sc.steps[9] as PingStep).service).toEqual({
      kind: 'lb',
      namespace: 'default',
      name: 'web',
      text: 'lb/web',
    });
  });

  it.each([
    [
      'a bad Service reference',
      ['  - connect: { from: web, to: "svc/Web:80" }', '    expect: reachable'],
      '"svc/Web:80"',
      "steps[0].connect.to: expected a Service like svc/web:80, nodeport/web:80@node1 or lb/web:80 (svc/<namespace>/<name>:<port> for another namespace), got 'svc/Web:80'",
    ],
    [
      'a ping with a port',
      ['  - ping: { from: web, to: "svc/web:80" }', '    expect: reachable'],
      '"svc/web:80"',
      "steps[0].ping.to: expected a Service like svc/web or lb/web (a ping has no port), got 'svc/web:80'",
    ],
    [
      'a bad delete',
      ['  - delete: configmap/x'],
      'configmap/x',
      "steps[0].delete: expected svc/<name>, deploy/<name> or pod/<name> (optionally <kind>/<namespace>/<name>), got 'configmap/x'",
    ],
    [
      'a bad servedBy',
      ['  - connect: { from: web, to: "svc/web:80" }', '    expect: { result: reachable, servedBy: [web, "pod/web"] }'],
      '"pod/web"',
      "steps[0].expect.servedBy[1]: expected a pod name, deployment/<name> or node/<name>, got 'pod/web'",
    ],
    [
      'a bad sourceSeenBy',
      ['  - connect: { from: web, to: "svc/web:80" }', '    expect: { result: reachable, sourceSeenBy: server }'],
      'server',
      "steps[0].expect.sourceSeenBy: expected an IPv4 address, node/<name> or client, got 'server'",
    ],
    ['an unknown node to cordon', ['  - cordon: node3'], 'node3', "unknown node 'node3' (cluster nodes: node1, node2)"],
    [
      'an unknown node in a NodePort destination',
      ['  - connect: { from: web, to: "nodeport/web:80@node9" }', '    expect: reachable'],
      '"nodeport/web:80@node9"',
      "unknown node 'node9' (cluster nodes: node1, node2)",
    ],
    [
      'an unknown node in servedBy',
      [
        '  - connect: { from: web, to: "svc/web:80" }',
        '    expect: { result: reachable, servedBy: [web, node/node7] }',
      ],
      'node/node7',
      "unknown node 'node7' (cluster nodes: node1, node2)",
    ],
    [
      'spread without repeat',
      ['  - connect: { from: web, to: "svc/web:80" }', '    expect: { result: reachable, spread: true }'],
      'true',
      'spread compares the pods that answered several attempts: give the connect step `repeat: 2` or more',
    ],
    [
      'a bad manifest in an apply step',
      ['  - apply: |', '      apiVersion: v1', '      kind: Pod', '      metadata: { name: x }', '      spek: {}'],
      'spek',
      'unknown field "spek"',
    ],
  ])('%s is an error at its place', (_, steps, needle, message) => {
    const text = withWeb(['steps:', ...steps]);
    const e = loadFailure(text);
    expect(pos(e)).toEqual(where(text, needle, text.indexOf('steps:')));
    expect(e.message).toContain(message);
  });

  it('steps that need Kubernetes are refused without a kubernetes section', () => {
    const text = scenario(null, ['steps:', '  - scale: { deployment: web, replicas: 2 }']);
    const e = loadFailure(text);
    expect(pos(e)).toEqual(where(text, '{ deployment'));
    expect(e.message).toBe('this step needs Kubernetes: add a `kubernetes:` section to `cluster:`');
    const connect = scenario(null, [
      'steps:',
      '  - connect: { from: node1, to: "10.0.0.1:80" }',
      '    expect: { result: reachable, servedBy: web }',
    ]);
    expect(pos(loadFailure(connect))).toEqual(where(connect, 'web }'));
  });

  it('a step naming a Service, port or object that does not exist fails when it runs, at the step', () => {
    const steps = [
      ['  - connect: { from: web, to: "svc/nope:80" }', '    expect: reachable'],
      ['  - connect: { from: web, to: "svc/web:81" }', '    expect: reachable'],
      ['  - connect: { from: web, to: "nodeport/web:80@node1" }', '    expect: reachable'],
      ['  - connect: { from: web, to: "lb/web:80" }', '    expect: reachable'],
      ['  - delete: pod/nope'],
      ['  - scale: { deployment: nope, replicas: 1 }'],
    ];
    const messages = steps.map((s) => {
      const text = withWeb(['steps:', ...s]);
      const e = runFailure(text);
      expect(pos(e)).toEqual({ line: where(text, '  - ', text.indexOf('steps:')).line, col: 5 });
      return e.message;
    });
    expect(messages).toEqual([
      'svc/nope:80: service "nope" not found in namespace "default"',
      'svc/web:81: service "web" has no port 81 (ports: http (80))',
      'nodeport/web:80@node1: service "web" port 80 has no node port (type ClusterIP)',
      'lb/web:80: service "web" has no load-balancer ingress IP (status.loadBalancer.ingress)',
      'pods "nope" not found',
      'deployments.apps "nope" not found',
    ]);
  });

  it('a pod whose name is taken by a node is refused when it would start', () => {
    const text = scenario([
      '    manifests:',
      '      - inline: |',
      '          apiVersion: v1',
      '          kind: Pod',
      '          metadata: { name: node2 }',
      '          spec: { nodeName: node1, containers: [{ name: c, image: busybox }] }',
    ]);
    const e = buildFailure(text);
    expect(pos(e)).toEqual(where(text, 'inline: |'));
    expect(e.message).toContain("pod default/node2: its name clashes with the namespace 'node2'");
  });
});
