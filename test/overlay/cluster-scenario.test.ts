// The `cluster:` section with an underlay and flannel, end to end through the scenario loader and builder: the
// mistakes a user makes are errors at their line and column (inside the inline net-conf.json too), the segments,
// routers and clients are built as described, flanneld programs every node, and a node leaving takes exactly its
// route, FDB entry and neighbour entry away from every other node.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { showFdb } from '../../src/bridge/show.js';
import { showNeigh, showRoutes } from '../../src/netns/show.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenario } from '../../src/scenario/loader.js';
import { buildScenario, runScenario, scenarioNs } from '../../src/scenario/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'podwire-flannel-cluster-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function write(text: string): string {
  const f = join(tmp, `s${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}

function loadError(text: string): string {
  try {
    loadScenario(write(text));
  } catch (e) {
    if (e instanceof ScenarioError) return e.toString().replace(/^.*\//, '');
    throw e;
  }
  throw new Error('loaded without error');
}

const scenariosDir = join(import.meta.dirname, '../../scenarios');

describe('cluster section errors', () => {
  it('a mistake inside net-conf.json is reported at its character', () => {
    const msg = loadError(
      [
        'name: x',
        'cluster:',
        '  nodes: [{ name: n1, address: 192.168.50.11/24 }]',
        '  flannel:',
        '    netConf: |',
        '      {',
        '        "Network": "10.244.0.0/16",',
        '        "Backend": { "Type": "udp" }',
        '      }',
        '',
      ].join('\n'),
    );
    expect(msg).toMatch(/^s\d+\.yaml:8:\d+: flannel net-conf\.json: /);
    expect(msg).toContain('udp');
  });

  it('a cluster without a pod network', () => {
    expect(loadError('name: x\ncluster:\n  nodes: [{ name: n1, address: 192.168.50.11/24 }]\n')).toMatch(
      /^s\d+\.yaml:3:3: cluster needs a pod network: `cni` \(a configuration list\) or `flannel`$/,
    );
  });

  it('an unknown segment', () => {
    const msg = loadError(
      [
        'name: x',
        'cluster:',
        '  underlay:',
        '    segments: [{ name: rack1 }]',
        '  nodes: [{ name: n1, address: 192.168.50.11/24, segment: rack2 }]',
        '  flannel: { netConf: \'{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }\' }',
        '',
      ].join('\n'),
    );
    expect(msg).toMatch(/^s\d+\.yaml:5:\d+: unknown segment 'rack2' \(segments: rack1\)$/);
  });

  it('a router and a node with one name', () => {
    const msg = loadError(
      [
        'name: x',
        'cluster:',
        '  underlay:',
        '    routers: [{ name: n1, interfaces: [{ segment: underlay, address: 192.168.50.1/24 }] }]',
        '  nodes: [{ name: n1, address: 192.168.50.11/24 }]',
        '  flannel: { netConf: \'{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }\' }',
        '',
      ].join('\n'),
    );
    expect(msg).toMatch(/^s\d+\.yaml:5:\d+: node 'n1' clashes with the router of the same name$/);
  });

  it('a leave step naming a namespace that is not a flannel node', () => {
    const f = write(
      [
        'name: x',
        'cluster:',
        '  underlay:',
        '    clients: [{ name: c1, address: 192.168.50.99/24 }]',
        '  nodes: [{ name: n1, address: 192.168.50.11/24 }]',
        '  flannel: { netConf: \'{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }\' }',
        'steps:',
        '  - leave: c1',
        '',
      ].join('\n'),
    );
    expect(() => runScenario(loadScenario(f), { tracing: false })).toThrow(/'c1' is not a node of a flannel cluster/);
  });
});

describe('underlay', () => {
  it('segments are bridges in root, routers forward between them, nodes route through them', () => {
    const sc = loadScenario(join(scenariosDir, 'flannel-vxlan-routed.yaml'));
    const k = buildScenario(sc, { tracing: false });
    const root = k.netns('root');
    expect(root.devs.get('rack1')?.kind).toBe('bridge');
    expect(root.devs.get('rack2')?.kind).toBe('bridge');
    const r1 = scenarioNs(k, 'r1')!;
    expect(r1.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    expect(showRoutes(r1)).toBe(
      [
        '192.168.50.0/24 dev eth0 proto kernel scope link src 192.168.50.1 ',
        '192.168.60.0/24 dev eth1 proto kernel scope link src 192.168.60.1 ',
        '',
      ].join('\n'),
    );
    const node2 = scenarioNs(k, 'node2')!;
    expect(showRoutes(node2).split('\n')[0]).toBe('default via 192.168.60.1 dev eth0 ');
    // flannel's FDB entry for node1 points at node1's address on the other segment.
    expect(showFdb(node2, 'flannel.1')).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2} dst 192\.168\.50\.11 self permanent\n$/);
  });
});

describe('a node leaves', () => {
  it('its route, FDB entry and neighbour entry disappear from every other node; theirs stay', () => {
    const sc = loadScenario(join(scenariosDir, 'flannel-node-leave.yaml'));
    const report = runScenario(sc);
    expect(report.steps.map((s) => s.failures)).toEqual(sc.steps.map(() => []));
    const k = report.kernel;
    expect(k.namespaces.has('node3')).toBe(false);
    for (const name of ['node1', 'node2']) {
      const ns = scenarioNs(k, name)!;
      const routes = showRoutes(ns);
      expect(routes, name).not.toContain('10.244.2.0/24');
      expect(showNeigh(ns), name).not.toContain('10.244.2.0 ');
      expect(showFdb(ns, 'flannel.1'), name).not.toContain('192.168.50.13');
      const other = name === 'node1' ? '10.244.1.0' : '10.244.0.0';
      expect(routes, name).toContain(`${other}/24 via ${other} dev flannel.1 onlink`);
      expect(showNeigh(ns), name).toContain(`${other} dev flannel.1 lladdr`);
      expect(showFdb(ns, 'flannel.1').trim().split('\n'), name).toHaveLength(1);
    }
    const outcome = report.steps[2]!.outcome;
    expect(outcome.result).toBe('unreachable');
  });
});
