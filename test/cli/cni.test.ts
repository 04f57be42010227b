// `podwire cni`: a configuration run by hand against a scenario's namespace, as cnitool runs a plugin chain.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-cni-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONF = join(dir, '10-bridge.conflist');
writeFileSync(
  CONF,
  JSON.stringify({
    cniVersion: '0.4.0',
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
  }),
);
const SCENARIO = join(dir, 'node.yaml');
writeFileSync(SCENARIO, 'name: a bare node\n');

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('podwire cni', () => {
  it('ADD prints the result in the configuration version, then CHECK and DEL succeed', async () => {
    const r = await run(['cni', 'add,check,del', SCENARIO, '--conf', CONF, '--netns', 'pod1']);
    expect(r.code).toBe(0);
    const json = r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1);
    const result = JSON.parse(json);
    expect(result.cniVersion).toBe('0.4.0');
    expect(result.ips).toEqual([{ version: '4', interface: 2, address: '10.244.1.2/24', gateway: '10.244.1.1' }]);
    expect(result.interfaces[2]).toMatchObject({ name: 'eth0', sandbox: '/var/run/netns/pod1' });
    expect(r.out).toContain('── CHECK (exit 0)');
    expect(r.out).toContain('── DEL (exit 0)');
  });

  it('an unknown plugin type gives the specification error object and exit 1', async () => {
    const bad = join(dir, 'bad.conflist');
    writeFileSync(bad, '{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"nope"}]}');
    const r = await run(['cni', 'add', SCENARIO, '--conf', bad, '--netns', 'pod2']);
    expect(r.code).toBe(1);
    const obj = JSON.parse(r.out);
    expect(obj).toMatchObject({ cniVersion: '1.0.0' });
    expect(obj.msg).toContain('failed to find plugin "nope"');
  });

  it('an unknown command is a usage error', async () => {
    const r = await run(['cni', 'frob', SCENARIO, '--conf', CONF, '--netns', 'pod3']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown CNI command 'frob'");
  });
});
