// Cluster scenarios: the nat table a node ends up with after cni-two-pods is exactly what the reference bridge
// plugin writes for those containers (chain names recomputed here with node:crypto), and every way a cluster
// section can be wrong is a ScenarioError at the right line and column (inside an inline configuration where the
// fault is there), which the CLI turns into exit code 2.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Node } from '../../src/cni/node.js';
import { iptablesSave } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenario, parseScenario } from '../../src/scenario/loader.js';
import { buildScenario, runScenario, scenarioNs } from '../../src/scenario/runner.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const CONFIG = {
  cniVersion: '1.0.0',
  name: 'cbr0',
  plugins: [
    {
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', subnet: '10.244.1.0/24', routes: [{ dst: '0.0.0.0/0' }] },
    },
  ],
};

/** The container IDs a node named node1 gives these pods with kernel seed 1 (built apart from any scenario). */
function containerIds(pods: string[]): string[] {
  const k = new Kernel({ seed: 1 });
  k.addNetns('node1');
  const node = new Node(k, 'node1', { name: 'node1' });
  node.writeConfig('10-bridge.conflist', JSON.stringify(CONFIG));
  return pods.map((p) => node.addPod(p).containerId);
}

function chainName(network: string, id: string): string {
  return `CNI-${createHash('sha512')
    .update(network + id)
    .digest('hex')}`.slice(0, 28);
}

describe('cni-two-pods: the bridge plugin ipMasq chains on node1', () => {
  const report = runScenario(loadScenario(join(SCENARIOS, 'cni-two-pods.yaml')), { tracing: false });

  it('every step holds', () => {
    expect(report.steps.flatMap((s) => s.failures)).toEqual([]);
  });

  it('iptables-save -t nat holds exactly the CNI chains and rules for web and db', () => {
    const node1 = scenarioNs(report.kernel, 'node1')!;
    const lines = iptablesSave(node1, { table: 'nat' })
      .split('\n')
      .filter((l) => l.includes('CNI-'));
    const [webId, dbId] = containerIds(['web', 'db']) as [string, string];
    const expected: string[] = [];
    for (const [ip, id] of [
      ['10.244.1.2', webId],
      ['10.244.1.3', dbId],
    ] as const) {
      const chain = chainName('cbr0', id);
      const comment = `-m comment --comment "name: \\"cbr0\\" id: \\"${id}\\""`;
      expected.push(
        `:${chain} - [0:0]`,
        `-A POSTROUTING -s ${ip}/32 ${comment} -j ${chain}`,
        `-A ${chain} -d 10.244.1.0/24 ${comment} -j ACCEPT`,
        `-A ${chain} ! -d 224.0.0.0/4 ${comment} -j MASQUERADE`,
      );
    }
    expect([...lines].sort()).toEqual([...expected].sort());
  });

  it('pods are found by name, nodes too, and pods get round-robin addresses', () => {
    const web = scenarioNs(report.kernel, 'web')!;
    expect(web.name).toMatch(/^cni-[0-9a-f-]{36}$/);
    expect(report.kernel.namespaces.has('web')).toBe(false);
    expect(scenarioNs(report.kernel, 'outside')?.name).toBe('outside');
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'podwire-cluster-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A cluster scenario with one node; `cni` and `pods` are YAML lines at the right indentation. */
function scenario(cni: string[], pods: string[]): string {
  return [
    'name: bad cluster',
    'cluster:',
    '  nodes:',
    '    - { name: node1, address: 192.168.50.11/24 }',
    '  cni:',
    ...cni,
    '  pods:',
    ...pods,
    '',
  ].join('\n');
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function where(text: string, needle: string, from = 0): { line: number; col: number } {
  const at = text.indexOf(needle, from);
  if (at < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

function failure(text: string, file: string): ScenarioError {
  try {
    buildScenario(parseScenario(text, file), { tracing: false });
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('built without error');
}

async function cliValidate(text: string, name: string): Promise<{ code: number; err: string }> {
  const path = join(tmp, name);
  writeFileSync(path, text);
  let err = '';
  const code = await main(['validate', path], { out: () => {}, err: (s) => (err += s) });
  return { code, err };
}

const inline = (json: string[]): string[] => ['    config: |', ...json.map((l) => `      ${l}`)];

describe('cluster errors point into the scenario file', () => {
  it('a JSON syntax error in an inline config points at the character inside the block', async () => {
    const text = scenario(
      inline(['{', '  "cniVersion": "1.0.0",', '  "name": "cbr0",', '  "plugins": [ { "type": "bridge" ] }', '}']),
      ['    - { name: web, node: node1 }'],
    );
    const e = failure(text, 'bad-json.yaml');
    const at = where(text, '] }');
    expect({ line: e.line, col: e.col }).toEqual(at);
    expect(e.message).toContain("invalid character ']' after object key:value pair");
    const cli = await cliValidate(text, 'bad-json.yaml');
    expect(cli.code).toBe(2);
    expect(cli.err).toContain(`bad-json.yaml:${at.line}:${at.col}: `);
    expect(cli.err).not.toMatch(/\n\s+at /);
  });

  it('an unknown plugin type points at its "type" value', async () => {
    const text = scenario(
      inline([
        '{ "cniVersion": "1.0.0", "name": "cbr0",',
        '  "plugins": [ { "type": "flannel-ng", "delegate": {} } ] }',
      ]),
      ['    - { name: web, node: node1 }'],
    );
    const e = failure(text, 'unknown-type.yaml');
    expect({ line: e.line, col: e.col }).toEqual(where(text, '"flannel-ng"'));
    expect(e.message).toBe('CNI configuration: failed to find plugin "flannel-ng" in path [/opt/cni/bin]');
    expect((await cliValidate(text, 'unknown-type.yaml')).code).toBe(2);
  });

  it('an exhausted pool fails at the pod that finds no address', async () => {
    // A /30 has .1 and .2; .1 is the gateway, so host-local can hand out .2 only.
    const conf = {
      ...CONFIG,
      plugins: [{ ...CONFIG.plugins[0]!, ipam: { type: 'host-local', subnet: '10.9.0.0/30' } }],
    };
    const text = scenario(inline([JSON.stringify(conf)]), [
      '    - { name: a, node: node1 }',
      '    - { name: b, node: node1 }',
      '    - { name: c, node: node1 }',
    ]);
    const e = failure(text, 'exhausted.yaml');
    expect({ line: e.line, col: e.col }).toEqual(where(text, '{ name: b'));
    expect(e.message).toContain('pod default/b on node node1: ');
    expect(e.message).toContain('no IP addresses available in range set: 10.9.0.1-10.9.0.2');
    const cli = await cliValidate(text, 'exhausted.yaml');
    expect(cli.code).toBe(2);
    expect(cli.err).not.toMatch(/\n\s+at /);
  });

  it("an unknown node points at the pod's node value", async () => {
    const text = scenario(['    file: cni/10-bridge.conflist'], ['    - { name: web, node: node2 }']);
    const e = failure(text, join(SCENARIOS, 'unknown-node.yaml'));
    expect({ line: e.line, col: e.col }).toEqual(where(text, 'node2'));
    expect(e.message).toBe("unknown node 'node2' (cluster nodes: node1)");
  });

  it('a pod named like a namespace is refused at its name', () => {
    const text = `${scenario(['    file: cni/10-bridge.conflist'], ['    - { name: outside, node: node1 }'])}setup:\n  - ip netns add outside\n`;
    const e = failure(text, join(SCENARIOS, 'clash.yaml'));
    expect({ line: e.line, col: e.col }).toEqual(where(text, 'outside'));
    expect(e.message).toContain("pod name 'outside' clashes with the namespace 'outside'");
  });

  it('an invalid range fails at the pod whose ADD found it', () => {
    const conf = join(tmp, 'bad.conflist');
    const bad = {
      ...CONFIG,
      plugins: [{ ...CONFIG.plugins[0]!, ipam: { type: 'host-local', subnet: '10.9.0.0/33' } }],
    };
    writeFileSync(conf, JSON.stringify(bad, null, 2));
    const text = scenario(['    file: bad.conflist'], ['    - { name: web, node: node1 }']);
    const e = failure(text, join(tmp, 'range.yaml'));
    expect({ file: e.file, line: e.line, col: e.col }).toEqual({
      file: join(tmp, 'range.yaml'),
      ...where(text, '{ name: web'),
    });
    expect(e.message).toContain(
      'pod default/web on node node1: plugin type="bridge" failed (add): invalid CIDR address: 10.9.0.0/33',
    );
  });

  it('a configuration error in a referenced file points into that file', () => {
    const conf = join(tmp, 'noname.conflist');
    writeFileSync(
      conf,
      '{\n  "cniVersion": "1.0.0",\n  "name": "bad name!",\n  "plugins": [{ "type": "bridge" }]\n}\n',
    );
    const text = scenario(['    file: noname.conflist'], ['    - { name: web, node: node1 }']);
    const e = failure(text, join(tmp, 'conf.yaml'));
    expect({ file: e.file, line: e.line, col: e.col }).toEqual({ file: conf, line: 3, col: 11 });
  });
});
