// Differential test against the real host-local binary (containernetworking-plugins, e.g. Debian's
// /usr/lib/cni/host-local): the same configurations and ADD/DEL/CHECK sequences run through the binary, with a
// temporary dataDir, and through podwire's plugin on a MemFs at the same path; results, error messages and the
// store directory's files must match after every step. The binary needs no root and no namespace for IPAM.
// Skipped, with a message, where the binary is not installed.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { CniError, type NetConf } from '../../src/cni/types.js';
import { hostLocal, storeFiles } from './host-local-harness.js';

const BIN = ['/usr/lib/cni/host-local', '/opt/cni/bin/host-local'].find((p) => existsSync(p));
if (BIN === undefined)
  console.warn('host-local reference tests skipped: no host-local binary in /usr/lib/cni or /opt/cni/bin');

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

type Op = 'ADD' | 'DEL' | 'CHECK';
interface Step {
  op: Op;
  id: string;
  ifName?: string;
  args?: Record<string, string>;
}

/** What an operation produced, in a form both sides share. */
type Outcome = { ok: { ips?: unknown; routes?: unknown; dns?: unknown } | null } | { code: number; msg: string };

function runBinary(conf: NetConf, s: Step): Outcome {
  const args = Object.entries(s.args ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  const r = spawnSync(BIN!, [], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    timeout: 10_000,
    env: {
      CNI_COMMAND: s.op,
      CNI_CONTAINERID: s.id,
      CNI_NETNS: '/var/run/netns/pw-hl',
      CNI_IFNAME: s.ifName ?? 'eth0',
      CNI_PATH: '/nonexistent',
      CNI_ARGS: args,
    },
  });
  if (r.status !== 0) {
    const e = JSON.parse(r.stdout) as { code: number; msg: string };
    return { code: e.code, msg: e.msg };
  }
  if (r.stdout.trim() === '') return { ok: null };
  const out = JSON.parse(r.stdout) as { ips?: unknown; routes?: unknown; dns?: Record<string, unknown> };
  const ok: { ips?: unknown; routes?: unknown; dns?: unknown } = { ips: out.ips };
  if (out.routes !== undefined) ok.routes = out.routes;
  // The binary always prints "dns": {}; podwire leaves dns out when no resolvConf is configured.
  if (out.dns !== undefined && Object.keys(out.dns).length > 0) ok.dns = out.dns;
  return { ok };
}

function runPodwire(fs: MemFs, conf: NetConf, s: Step): Outcome {
  const rt = { containerId: s.id, ifName: s.ifName ?? 'eth0', args: s.args ?? {} };
  try {
    if (s.op === 'ADD') {
      const r = hostLocal.add(conf, rt, { fs });
      const ok: { ips?: unknown; routes?: unknown; dns?: unknown } = { ips: r.ips };
      if (r.routes !== undefined) ok.routes = r.routes;
      if (r.dns !== undefined) ok.dns = r.dns;
      return { ok };
    }
    if (s.op === 'DEL') hostLocal.del(conf, rt, { fs });
    else hostLocal.check(conf, rt, { fs });
    return { ok: null };
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    return { code: e.code, msg: e.message };
  }
}

function realFiles(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (statSync(join(dir, name)).isFile()) out[name] = readFileSync(join(dir, name), 'utf8');
  }
  return out;
}

/** Runs the steps on both sides with one dataDir path; compares outcomes and store files after every step. */
function compare(ipam: Record<string, unknown>, steps: Step[], extra: Record<string, unknown> = {}, resolv?: string) {
  const root = mkdtempSync(join(tmpdir(), 'pw-hl-'));
  roots.push(root);
  const fs = new MemFs();
  const ipamConf: Record<string, unknown> = { type: 'host-local', dataDir: join(root, 'data'), ...ipam };
  if (resolv !== undefined) {
    const path = join(root, 'resolv.conf');
    writeFileSync(path, resolv);
    fs.write(path, resolv);
    ipamConf.resolvConf = path;
  }
  const conf = { cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', ...extra, ipam: ipamConf } as NetConf;
  for (const [i, s] of steps.entries()) {
    const label = `step ${i}: ${s.op} ${s.id} ${s.ifName ?? 'eth0'} ${JSON.stringify(s.args ?? {})}`;
    expect(runPodwire(fs, conf, s), label).toEqual(runBinary(conf, s));
    expect(storeFiles(fs, 'cbr0', join(root, 'data')), label).toEqual(realFiles(join(root, 'data', 'cbr0')));
  }
}

const A = (id: string, more: Partial<Step> = {}): Step => ({ op: 'ADD', id, ...more });
const D = (id: string, more: Partial<Step> = {}): Step => ({ op: 'DEL', id, ...more });
const C = (id: string, more: Partial<Step> = {}): Step => ({ op: 'CHECK', id, ...more });

describe.skipIf(BIN === undefined)('host-local against the reference binary', () => {
  it('round-robin, exhaustion, duplicate ADD, DEL by interface, CHECK on a /29', () => {
    compare({ subnet: '10.0.0.0/29', routes: [{ dst: '0.0.0.0/0' }, { dst: '10.5.0.5/8', gw: '10.0.0.1' }] }, [
      A('a'),
      A('b'),
      A('c'),
      D('b'),
      A('d'),
      A('a'),
      A('e'),
      A('f'),
      A('g'),
      C('a'),
      C('b'),
      D('a', { ifName: 'eth1' }),
      C('a', { ifName: 'eth1' }),
      D('a'),
      D('c'),
      D('nobody'),
      A('h'),
      A('i'),
      A('j', { args: { IP: '10.0.0.2' } }),
      A('j', { args: { IP: '10.0.0.1' } }),
      A('j', { args: { IP: '10.0.0.7' } }),
      A('j', { args: { IP: '10.0.0.5', K8S_POD_NAME: 'x' } }),
      A('j', { args: { IgnoreUnknown: '1', K8S_POD_NAME: 'x' } }),
    ]);
  });

  it('range sets, several ranges per set, rollback, dns, requested addresses', () => {
    compare(
      {
        ranges: [
          [{ subnet: '10.1.0.0/30' }, { subnet: '10.1.1.0/29', rangeStart: '10.1.1.3', gateway: '10.1.1.4' }],
          [{ subnet: '10.2.0.0/30' }],
        ],
        routes: [{ dst: '0.0.0.0/0' }],
      },
      [A('a'), A('b'), D('a'), A('c'), A('d'), D('c'), A('e'), A('f'), A('g', { ifName: 'net1' }), D('e'), C('e')],
      {},
      'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n',
    );
    compare({ ranges: [[{ subnet: '10.3.0.0/24' }], [{ subnet: '10.4.0.0/24' }]] }, [
      A('a', { args: { IP: '10.4.0.77/24' } }),
      A('b'),
      A('c', { args: { IP: '10.3.0.200' } }),
      A('d'),
      A('e', { args: { IP: '10.9.0.1' } }),
    ]);
    compare({ subnet: '10.6.0.0/24' }, [A('a')], { runtimeConfig: { ips: ['10.6.0.99'] }, args: { cni: { ips: [] } } });
    compare({ subnet: '10.6.0.0/24' }, [A('a')], { args: { cni: { ips: ['10.6.0.98'] } } });
  });

  it('files written by others: legacy ID-only files, stale reservations', () => {
    const root = mkdtempSync(join(tmpdir(), 'pw-hl-'));
    roots.push(root);
    const dataDir = join(root, 'data');
    const conf = {
      cniVersion: '1.0.0',
      name: 'cbr0',
      type: 'bridge',
      ipam: { type: 'host-local', dataDir, subnet: '10.7.0.0/29' },
    } as NetConf;
    const fs = new MemFs();
    const both = (s: Step) => expect(runPodwire(fs, conf, s)).toEqual(runBinary(conf, s));
    both(A('a'));
    for (const [name, content] of [
      ['10.7.0.2', 'a'],
      ['10.7.0.3', '  stale \n'],
    ] as const) {
      writeFileSync(join(dataDir, 'cbr0', name), content);
      fs.write(join(dataDir, 'cbr0', name), content);
    }
    for (const s of [
      C('a', { ifName: 'other' }),
      A('stale'),
      C('stale'),
      D('a', { ifName: 'x' }),
      A('b'),
      D('stale'),
    ]) {
      both(s);
      expect(storeFiles(fs, 'cbr0', dataDir)).toEqual(realFiles(join(dataDir, 'cbr0')));
    }
  });

  it('refuses the same configurations with the same messages', () => {
    const bad: [Record<string, unknown>, Record<string, unknown>?][] = [
      [{ subnet: '10.0.0.0/31' }],
      [{ subnet: '10.0.0.5/32' }],
      [{ subnet: '10.0.0.5/24' }],
      [{ subnet: '10.0.0.0/24', rangeStart: '10.0.1.1' }],
      [{ subnet: '10.0.0.0/24', rangeEnd: '10.0.1.1' }],
      [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.50', rangeEnd: '10.0.0.40' }],
      [{ ranges: [[{ subnet: '10.1.0.0/22' }, { subnet: '10.1.2.0/24' }]] }],
      [{ ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24' }, { subnet: '10.1.0.128/25' }]] }],
      [{ ranges: [[{ rangeStart: '10.1.0.5' }]] }],
      [{ ranges: [[]] }],
      [{ subnet: '10.0.0/24' }],
      [{ subnet: '' }],
      [{ subnet: '10.0.0.0/24', gateway: 'x' }],
      [{}],
      [{ ranges: 'x' }],
      [{ ranges: [{ subnet: '10.0.0.0/24' }] }],
      [{ ranges: [['x']] }],
      [{ ranges: [[{ subnet: 5 }]] }],
      [{ subnet: 5 }],
      [{ subnet: '10.0.0.0/24', gateway: 5 }],
      [{ subnet: '10.0.0.0/24', dataDir: 5 }],
      [{ subnet: '10.0.0.0/24', routes: 'x' }],
      [{ subnet: '10.0.0.0/24', routes: [{ dst: '1.0.0.0/8', gw: 'zz' }] }],
      [{ subnet: '10.0.0.0/24', resolvConf: '/nonexistent/pw-hl/resolv.conf' }],
      [{ subnet: '10.0.0.0/24' }, { runtimeConfig: { ips: ['zz'] } }],
      [{ subnet: '10.0.0.0/24' }, { args: { cni: { ips: [5] } } }],
      [{ subnet: '10.0.0.0/24' }, { args: { cni: { ips: ['10.0.0.9', '10.9.0.9'] } } }],
      [{ subnet: '10.0.0.0/24' }, { cniVersion: '0.2.0', runtimeConfig: { ipRanges: [[{ subnet: '10.8.0.0/24' }]] } }],
      [{ ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.0/25' }]] }, { runtimeConfig: {} }],
    ];
    for (const [ipam, extra] of bad) compare(ipam, [A('c')], extra ?? {});
  });
});
