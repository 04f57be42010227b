// `ip -d link show` and `bridge fdb show [dev DEV]` of the emulator against real Linux (root only; skipped with a
// message otherwise): loopback, veths (a peer in another namespace and in the same one, bridge ports and not),
// bridges (with ports, without, after their last port left; up and down), and VXLAN devices (with and without a
// lower device, non-default options, FDB entries of every state, an entry learnt from a ping across the tunnel).
// Namespaces are `pw-ipd-<pid>-a|b` and are deleted afterwards. Only what legitimately differs is normalised,
// each where it is applied.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showFdb } from '../../src/bridge/show.js';
import { ping, runUntilDone, topology } from '../../src/index.js';
import { ipLinkShowDetail } from '../../src/netns/show.js';
import { VETH_NUM_QUEUES } from '../../src/netns/veth.js';
import { parseIpv4 } from '../../src/wire/addr.js';

const SETUP = [
  'ip netns add a',
  'ip netns add b',
  'ip -n a link set lo up',
  'ip -n a link add br0 type bridge',
  'ip -n a link add v1 address 02:aa:00:00:00:01 type veth peer name v2 address 02:aa:00:00:00:02 netns b',
  'ip -n a link add v3 address 02:aa:00:00:00:03 type veth peer name v4 address 02:aa:00:00:00:04',
  'ip -n a link set v1 master br0',
  'ip -n a link set v3 master br0',
  'ip -n a link set br0 up',
  'ip -n a link set v1 up',
  'ip -n a link set v3 up',
  'ip -n a addr add 10.0.0.1/24 dev br0',
  'ip -n b link set v2 up',
  'ip -n b addr add 10.0.0.2/24 dev v2',
  'ip -n a link add vx0 address 0a:f1:00:00:00:01 type vxlan id 1 local 10.0.0.1 dev br0 dstport 8472',
  'ip -n a link set vx0 mtu 1400',
  'ip -n a addr add 10.9.0.1/24 dev vx0',
  'ip -n a link set vx0 up',
  'bridge -n a fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2',
  'bridge -n a fdb add 0a:f1:00:00:00:07 dev vx0 dst 10.0.0.7 static',
  'bridge -n a fdb add 0a:f1:00:00:00:08 dev vx0 dst 10.0.0.8 vni 9',
  'ip -n a link add vx1 address 0a:f1:00:00:00:03 type vxlan id 2 dstport 4789 ttl 10 noudpcsum srcport 1000 2000 nolearning',
  'ip -n a link set vx1 promisc on',
  'ip -n a link add br1 address 02:bb:00:00:00:09 type bridge',
  'ip -n a link add br2 type bridge',
  'ip -n a link add v5 address 02:aa:00:00:00:05 type veth peer name v6 address 02:aa:00:00:00:06',
  'ip -n a link set v5 master br2',
  'ip -n a link set v5 nomaster',
  'ip -n a link set v6 up',
  'ip -n a link set v6 down',
  'ip -n b link add vxb address 0a:f1:00:00:00:0b type vxlan id 1 local 10.0.0.2 dev v2 dstport 8472',
  'ip -n b addr add 10.9.0.2/24 dev vxb',
  'ip -n b link set vxb up',
  'bridge -n b fdb append 00:00:00:00:00:00 dev vxb dst 10.0.0.1',
];
const VIEWS: [ns: string, view: string][] = [
  ['a', 'ip -d link show'],
  ['b', 'ip -d link show'],
  ['a', 'bridge fdb show'],
  ['a', 'bridge fdb show dev vx0'],
  ['a', 'bridge fdb show dev br0'],
  ['a', 'bridge fdb show dev v1'],
  ['b', 'bridge fdb show dev vxb'],
];
const key = (ns: string, view: string) => `${ns}: ${view}`;

const prefix = `pw-ipd-${process.pid}-`;

function sh(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A setup line for real namespaces: namespace names get this run's prefix. */
function realArgv(line: string): string[] {
  return line
    .replace(/^ip netns add (\w+)$/, `ip netns add ${prefix}$1`)
    .replace(/ -n (\w+) /, ` -n ${prefix}$1 `)
    .replace(/ netns (\w+)$/, ` netns ${prefix}$1`)
    .split(' ');
}

function cleanup(): void {
  for (const l of sh('ip', ['netns', 'list']).split('\n')) {
    const n = l.trim().split(/\s+/)[0] ?? '';
    if (!n.startsWith('pw-ipd-')) continue;
    const pid = Number(/^pw-ipd-(\d+)-/.exec(n)?.[1]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (n.startsWith(prefix) || !alive) {
      try {
        sh('ip', ['netns', 'delete', n]);
      } catch {
        // already gone
      }
    }
  }
}

function unavailable(): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const [file, args] of [
    ['ip', ['-V']],
    ['bridge', ['-V']],
    ['ping', ['-V']],
  ] as const) {
    try {
      sh(file, [...args]);
    } catch {
      return `needs \`${file}\``;
    }
  }
  const probe = `${prefix}probe`;
  try {
    sh('ip', ['netns', 'add', probe]);
    try {
      sh('ip', ['-n', probe, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '1', 'dstport', '8472']);
    } finally {
      sh('ip', ['netns', 'delete', probe]);
    }
  } catch (e) {
    return `cannot create a namespace with a VXLAN device: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}

function runReal(): Map<string, string> {
  for (const line of SETUP) {
    const argv = realArgv(line);
    sh(argv[0]!, argv.slice(1));
    // No IPv6: its router solicitations and MLD reports would cross the tunnel and be learnt too.
    if (line.startsWith('ip netns add '))
      sh('ip', [
        'netns',
        'exec',
        argv[3]!,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
  }
  sh('ip', ['netns', 'exec', `${prefix}b`, 'ping', '-n', '-c', '1', '-W', '4', '10.9.0.1']);
  const out = new Map<string, string>();
  for (const [ns, view] of VIEWS) {
    const [file, ...rest] = view.split(' ');
    out.set(key(ns, view), sh(file!, ['-n', `${prefix}${ns}`, ...rest]));
  }
  return out;
}

function runEmulated(): Map<string, string> {
  const k = topology(SETUP, { seed: 3, tracing: false });
  const probe = runUntilDone(k, ping(k.netns('b'), parseIpv4('10.9.0.1')!, { waitNs: 4e9 }));
  expect(probe.outcome.result).toBe('reachable');
  const out = new Map<string, string>();
  for (const [ns, view] of VIEWS) {
    const n = k.netns(ns);
    const dev = view.startsWith('bridge fdb show dev ') ? view.split(' ')[4] : undefined;
    out.set(key(ns, view), view.startsWith('ip -d') ? ipLinkShowDetail(n) : showFdb(n, dev));
  }
  return out;
}

/** num_possible_cpus() of this machine, which a real veth's queue count follows. */
function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return text.split(',').reduce((n, r) => {
    const [lo, hi] = r.split('-').map(Number);
    return n + (hi === undefined ? 1 : hi - lo! + 1);
  }, 0);
}

function normalise(text: string, real: boolean): string {
  let t = text;
  // Namespace names carry this run's prefix in the real world.
  if (real) t = t.split(prefix).join('');
  // Running timers (FDB garbage collection, a new port's forward delay) count down in real time in one world and
  // virtual time in the other; a stopped one (0.00) is compared as it is.
  t = t.replace(/(gc_timer|forward_delay_timer) +(\d+\.\d\d)/g, (m, name: string, v: string) =>
    v === '0.00' ? m : `${name} <running>`,
  );
  // An up bridge's FDB garbage collection work is always armed (opening the bridge queues it and br_fdb_cleanup requeues
  // itself), but the kernel reads 0.00 while the work is running or within its last jiffy: a real 0.00 on an up
  // bridge is a running timer caught at its edge.
  if (real)
    t = t.replace(
      /^(\d+: [^\n]*<[^>\n]*\bUP\b[^>\n]*>[^\n]*\n(?: {4}[^\n]*\n)*? {4}bridge [^\n]*?gc_timer) +0\.00/gm,
      '$1 <running>',
    );
  // The emulator models no IPv6: Linux lists the IPv6 all-nodes groups (33:33:…) even with IPv6 disabled.
  t = t
    .split('\n')
    .filter((l) => !l.startsWith('33:33:'))
    .join('\n');
  // A veth has one queue per possible CPU; the emulator models the reference machine's count.
  if (real && possibleCpus() !== VETH_NUM_QUEUES)
    t = t.replace(
      /(\n {4}veth [^\n]*?)numtxqueues \d+ numrxqueues \d+/g,
      `$1numtxqueues ${VETH_NUM_QUEUES} numrxqueues ${VETH_NUM_QUEUES}`,
    );
  return t;
}

const skipReason = unavailable();
if (skipReason) console.warn(`ip -d link fidelity tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('ip -d link / bridge fdb show match real Linux (root)', () => {
  let real: Map<string, string>;
  let emu: Map<string, string>;

  beforeAll(() => {
    cleanup();
    try {
      real = runReal();
    } finally {
      cleanup();
    }
    emu = runEmulated();
  }, 60_000);

  afterAll(() => cleanup());

  for (const [ns, view] of VIEWS)
    it(key(ns, view), () => {
      expect(normalise(emu.get(key(ns, view))!, false)).toBe(normalise(real.get(key(ns, view))!, true));
    });

  it('a running gc timer reads between 0 and the ageing time', () => {
    const timers = [...emu.get(key('a', 'ip -d link show'))!.matchAll(/gc_timer +(\d+\.\d\d)/g)].map((m) =>
      Number(m[1]),
    );
    expect(timers.filter((t) => t > 0).every((t) => t <= 300)).toBe(true);
    expect(timers.some((t) => t > 0)).toBe(true);
  });
});
