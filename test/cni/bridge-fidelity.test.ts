// The bridge plugin against the real one: test/fixtures/cni/bridge/record.sh ran Debian's containernetworking-plugins
// (bridge + host-local) in real namespaces and recorded results, errors, iptables-save, links, addresses and routes
// after each step. The same steps run here on the emulated kernel must print the same, once random MACs and veth
// names are numbered by first appearance. The recording is v1.1.1; the three messages whose wording changed since
// (podwire follows the current source) are rewritten to the current wording before comparing. With root and the
// plugins installed, a fresh recording is compared too.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Bridge } from '../../src/bridge/bridge.js';
import { MemFs } from '../../src/cni/fs.js';
import { bridgePlugin } from '../../src/cni/plugins/bridge.js';
import { CniError, type NetConf, type Result, type RuntimeInputs } from '../../src/cni/types.js';
import {
  iptablesSave,
  type Kernel,
  type NetNs,
  showAddrsBrief,
  showLinksBrief,
  showRoutes,
  topology,
} from '../../src/index.js';
import { linkDelete } from '../../src/netns/link.js';
import { routeModify } from '../../src/netns/route.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/cni/bridge');

/** Numbers MACs (other than all-zero) and host veth names by first appearance. */
function normalize(text: string): string {
  const macs = new Map<string, string>();
  const veths = new Map<string, string>();
  return text
    .replace(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g, (m) => {
      if (m === '00:00:00:00:00:00' || m === 'ff:ff:ff:ff:ff:ff') return m;
      if (!macs.has(m)) macs.set(m, `MAC${macs.size + 1}`);
      return macs.get(m)!;
    })
    .replace(/\bveth[0-9a-f]{8}\b/g, (v) => {
      if (!veths.has(v)) veths.set(v, `VETH${veths.size + 1}`);
      return veths.get(v)!;
    });
}

/** Wording of v1.1.1 (the recording) → the current source, which podwire follows. */
function toCurrentWording(msg: string): string {
  return msg
    .replace('at the same time.', 'at the same time')
    .replace(/^(failed to add route '.*? dev \S+)':/, "$1 metric 0 (Scope: universe, Table: 0)':")
    .replace(/(Expected Route \{Dst:\{[^}]*\} GW:\S+?)\}/, '$1 MTU:0 AdvMSS:0 Priority:0 Table:<nil> Scope:<nil>}');
}

/** What a file of the recording holds, in comparable form. */
function recorded(dir: string, file: string): string {
  const text = readFileSync(join(dir, file), 'utf8');
  if (file.endsWith('.json') && text.trim().startsWith('{')) {
    const o = JSON.parse(text) as { code?: number; msg?: string };
    if (o.code !== undefined) return normalize(JSON.stringify({ code: o.code, msg: toCurrentWording(o.msg ?? '') }));
    return normalize(JSON.stringify(o));
  }
  return normalize(text.trimEnd());
}

function conf(name: string, bridge: string, extra: Record<string, unknown>, ipam: Record<string, unknown>): NetConf {
  return {
    cniVersion: '1.0.0',
    name,
    type: 'bridge',
    bridge,
    ...extra,
    ipam: { type: 'host-local', dataDir: '/tmp/pw-cnib-data', ...ipam },
  };
}

/** Replays record.sh on the emulated kernel; returns the same files' contents. */
function replay(): Map<string, string> {
  const k: Kernel = topology(['ip netns add POD1', 'ip netns add POD2'], { tracing: false });
  const env = { kernel: k, host: k.root, fs: new MemFs() };
  const out = new Map<string, string>();
  const rt = (id: string, ns: NetNs, ifName: string): RuntimeInputs => ({
    containerId: id,
    netns: ns,
    ifName,
    args: {},
    capabilityArgs: {},
  });
  const p1 = k.netns('POD1');
  const p2 = k.netns('POD2');
  const gone = k.addNetns('gone');
  k.delNetns('gone');
  const state = (label: string): void => {
    k.run(k.now);
    const v4 = (s: string) =>
      s
        .split('\n')
        .filter((l) => /\d+\.\d+\.\d+\.\d+\//.test(l))
        .map((l) => `${l}\n`)
        .join('');
    let s = `## iptables-save\n${iptablesSave(k.root, { date: null })}`;
    s += `## host ip -br link\n${showLinksBrief(k.root)}## host ip -br addr\n${v4(showAddrsBrief(k.root))}`;
    s += `## host ip route\n${showRoutes(k.root)}## host ip_forward\n${k.root.sysctl.get('net.ipv4.ip_forward')}\n`;
    for (const [n, ns] of [
      ['POD1', p1],
      ['POD2', p2],
    ] as const) {
      s += `## ${n} ip -br link\n${showLinksBrief(ns)}## ${n} ip -br addr\n${v4(showAddrsBrief(ns))}`;
      s += `## ${n} ip route\n${showRoutes(ns)}`;
    }
    out.set(`${label}.txt`, normalize(s.trimEnd()));
  };
  const json = (file: string, fn: () => Result): Result | undefined => {
    try {
      const r = fn();
      out.set(file, normalize(JSON.stringify(r)));
      return r;
    } catch (e) {
      if (!(e instanceof CniError)) throw e;
      out.set(file, normalize(JSON.stringify({ code: e.code, msg: e.message })));
      return undefined;
    }
  };
  const rc = (file: string, prefix: string, fn: () => void): void => {
    try {
      fn();
      out.set(file, `${prefix}rc=0`);
    } catch (e) {
      out.set(file, `${prefix}${e instanceof CniError ? JSON.stringify({ code: e.code, msg: e.message }) : String(e)}`);
    }
  };

  const c1 = conf(
    'mynet',
    'cni0',
    { isGateway: true, ipMasq: true },
    { ranges: [[{ subnet: '10.22.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
  );
  state('before');
  const r1 = json('add-pod1.json', () => bridgePlugin.add(c1, rt('ctr-3f1a8c2e9b7d', p1, 'eth0'), env))!;
  json('add-pod2.json', () => bridgePlugin.add(c1, rt('ctr-b81c55e0f2a4', p2, 'eth0'), env));
  state('after-add');
  const withPrev = { ...c1, prevResult: r1 };
  rc('check-ok.json', 'check ', () => bridgePlugin.check(withPrev, rt('ctr-3f1a8c2e9b7d', p1, 'eth0'), env));
  routeModify(p1, {
    op: 'del',
    type: 'unicast',
    dst: 0,
    len: 0,
    gw: null,
    dev: null,
    metric: null,
    prefsrc: null,
    table: 254,
    proto: null,
    scope: null,
    onlink: false,
    mtu: null,
    advmss: null,
  });
  json('check-no-route.json', () => {
    bridgePlugin.check(withPrev, rt('ctr-3f1a8c2e9b7d', p1, 'eth0'), env);
    return {} as Result;
  });
  linkDelete(p1.dev('eth0'));
  json('check-no-iface.json', () => {
    bridgePlugin.check(withPrev, rt('ctr-3f1a8c2e9b7d', p1, 'eth0'), env);
    return {} as Result;
  });
  rc('del-pod1.out', '', () => bridgePlugin.del(c1, rt('ctr-3f1a8c2e9b7d', p1, 'eth0'), env));
  rc('del-pod2.out', '', () => bridgePlugin.del(c1, rt('ctr-b81c55e0f2a4', p2, 'eth0'), env));
  rc('del-pod2-again.out', '', () => bridgePlugin.del(c1, rt('ctr-b81c55e0f2a4', p2, 'eth0'), env));
  rc('del-no-netns.out', '', () => bridgePlugin.del(c1, rt('ctr-b81c55e0f2a4', gone, 'eth0'), env));
  state('after-del');

  const sub = (s: string) => ({ ranges: [[{ subnet: s }]] });
  const c2 = conf(
    'k8s',
    'cbr0',
    { isDefaultGateway: true, mtu: 1450, hairpinMode: true, ipMasq: true },
    sub('10.244.1.0/24'),
  );
  json('add2-pod1.json', () => bridgePlugin.add(c2, rt('ctr-0a0b0c0d', p1, 'eth1'), env));
  state('after-add2');
  const c2b = conf(
    'k8s',
    'cbr0',
    { isDefaultGateway: true, mtu: 1450 },
    { ...sub('10.244.1.0/24'), routes: [{ dst: '0.0.0.0/0' }] },
  );
  json('add2b-default-twice.json', () => bridgePlugin.add(c2b, rt('ctr-0e0e', p2, 'eth9'), env));
  state('after-add2b');
  const c3 = conf('other', 'cbr0', { isGateway: true }, sub('10.99.0.0/24'));
  json('add3-conflict.json', () => bridgePlugin.add(c3, rt('ctr-0f0f', p2, 'eth1'), env));
  state('after-add3');
  const c4 = conf('other', 'cbr0', { isGateway: true, forceAddress: true }, sub('10.99.0.0/24'));
  json('add4-force.json', () => bridgePlugin.add(c4, rt('ctr-0f0f', p2, 'eth2'), env));
  state('after-add4');
  const c5: NetConf = { cniVersion: '1.0.0', name: 'l2', type: 'bridge', bridge: 'br-l2' };
  json('add5-l2.json', () => bridgePlugin.add(c5, rt('ctr-l2', p2, 'eth3'), env));
  const c6: NetConf = { ...c5, hairpinMode: true, promiscMode: true };
  json('add6-clash.json', () => bridgePlugin.add(c6, rt('ctr-l2b', p2, 'eth4'), env));
  state('after-add6');

  // What `bridge -d link` showed for the k8s network's port: hairpin on, MTU 1450, master cbr0.
  const cbr0 = k.root.dev('cbr0') as Bridge;
  const port = [...cbr0.ports.values()].sort((a, b) => a.order - b.order)[0]!;
  out.set('add2-bridge-link', `${port.dev.mtu} ${port.hairpin} ${port.dev.master?.name}`);
  return out;
}

function compareWith(dir: string): void {
  const mine = replay();
  const files = readdirSync(dir).filter((f) => /\.(json|txt|out)$/.test(f) && f !== 'CAPTURED-ON.txt');
  expect(files.length).toBeGreaterThan(20);
  for (const f of files) {
    if (f === 'add2-bridge-link.txt') {
      const t = readFileSync(join(dir, f), 'utf8');
      expect(t).toMatch(/mtu 1450 master cbr0 .*\n\s+hairpin on /);
      expect(mine.get('add2-bridge-link')).toBe('1450 true cbr0');
      continue;
    }
    expect(mine.has(f), `podwire replay produced ${f}`).toBe(true);
    expect(mine.get(f), f).toBe(recorded(dir, f));
  }
}

describe('bridge plugin against the real plugin', () => {
  it('prints what the recorded containernetworking-plugins bridge printed, step by step', () => {
    compareWith(FIXTURES);
  });

  const canRecord = typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/lib/cni/bridge');
  it.skipIf(!canRecord)(
    'matches a fresh recording (root, containernetworking-plugins installed)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'pw-cnib-'));
      try {
        execFileSync('bash', [join(FIXTURES, 'record.sh'), dir], { stdio: 'pipe', timeout: 120_000 });
        compareWith(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
