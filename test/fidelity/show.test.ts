// The inspection output of the emulator against real Linux: the same setup and the same pings are run in real
// network namespaces (root only) and in the emulator, then `ip -br link`, `ip -br addr`, `ip route`,
// `ip route show table local|all`, `ip neigh` and `bridge fdb show` of every namespace are compared line by line.
// Only what legitimately differs is normalised; each normalisation is named where it is applied. Namespaces are
// `pw-show-<pid>-<name>` (the scenario's initial namespace is `pw-show-<pid>-root`) and are deleted afterwards.

import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { showFdb } from '../../src/bridge/show.js';
import { showAddrsBrief, showLinksBrief, showNeigh, showRoutes } from '../../src/netns/show.js';
import { parseScenario } from '../../src/scenario/loader.js';
import { runScenario } from '../../src/scenario/runner.js';
import type { LabNames } from '../../tools/kernel-lab/index.js';
import { rewriteSetupLine } from '../../tools/kernel-lab/index.js';

// Bridge ports get fixed MACs so that br0 (which takes its smallest port MAC) picks the same port in both worlds;
// veth-b is the smaller one on purpose. br1 has an explicit address, so it keeps it and its own FDB entry is
// listed. The pods' eth0 MACs stay random and are mapped device by device. veth-d is up with its peer down
// (LOWERLAYERDOWN, M-DOWN, `linkdown` routes); br2 never had a port (UNKNOWN, carrier on).
const SETUP = [
  'ip link set lo up',
  'ip netns add a',
  'ip netns add b',
  'ip netns add c',
  'ip link add br0 type bridge',
  'ip link add veth-a address 02:aa:00:00:00:02 type veth peer name eth0 netns a',
  'ip link add veth-b address 02:aa:00:00:00:01 type veth peer name eth0 netns b',
  'ip link set veth-a master br0',
  'ip link set veth-b master br0',
  'ip addr add 10.0.0.254/24 dev br0',
  'ip link set br0 up',
  'ip link set veth-a up',
  'ip link set veth-b up',
  'ip -n a link set lo up',
  'ip -n a link set eth0 up',
  'ip -n b link set lo up',
  'ip -n b link set eth0 up',
  'ip -n a addr add 10.0.0.1/24 dev eth0',
  'ip -n b addr add 10.0.0.2/24 dev eth0',
  'ip -n a route add default via 10.0.0.254',
  'ip -n b route add 192.168.0.0/16 via 10.0.0.254 metric 100',
  'ip -n b route add 10.5.0.0/16 via 10.0.0.254 table 100',
  'ip link add br1 address 02:bb:00:00:00:09 type bridge',
  'ip link add veth-c type veth peer name eth0 netns c',
  'ip link set veth-c master br1',
  'ip addr add 10.1.0.254/24 dev br1',
  'ip link set br1 up',
  'ip link set veth-c up',
  'ip -n c link set eth0 up',
  'ip -n c addr add 10.1.0.1/24 dev eth0',
  'ip -n c route add 172.16.0.0/12 dev eth0 scope link',
  'ip link add veth-d type veth peer name veth-e',
  'ip link set veth-d up',
  'ip addr add 10.9.0.1/24 dev veth-d',
  'ip link add br2 type bridge',
  'ip addr add 10.2.0.1/24 dev br2',
  'ip link set br2 up',
];
const PINGS = [
  { from: 'a', to: '10.0.0.2' },
  { from: 'c', to: '10.1.0.254' },
];
const NAMESPACES = ['root', 'a', 'b', 'c'];
const VIEWS = [
  'ip -br link',
  'ip -br addr',
  'ip route',
  'ip route show table local',
  'ip route show table all',
  'ip neigh',
  'bridge fdb show',
];
type View = (typeof VIEWS)[number];
type Outputs = Map<string, Map<View, string>>;

const prefix = `pw-show-${process.pid}-`;
// Same shape as the kernel lab's names, with this test's own prefix so the lab's stale-namespace sweep ignores them.
const names: LabNames = {
  id: String(process.pid),
  root: `${prefix}root`,
  map: (n) => `${prefix}${n}`,
  of: (n) => (n === 'root' || n === '' ? `${prefix}root` : `${prefix}${n}`),
  owns: (n) => n.startsWith(prefix),
};

function sh(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function listNetns(): string[] {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes this run's namespaces, and those a crashed earlier run (its pid gone) left behind. */
function cleanup(): void {
  for (const n of listNetns()) {
    const m = /^pw-show-(\d+)-/.exec(n);
    if (!m) continue;
    if (n.startsWith(prefix) || !pidAlive(Number(m[1]))) {
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
    sh('ip', ['netns', 'delete', probe]);
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}

function viewArgv(view: View, ns: string): [string, string[]] {
  const words = view.split(' ');
  return [words[0]!, ['-n', names.of(ns), ...words.slice(1)]];
}

function runReal(): Outputs {
  sh('ip', ['netns', 'add', names.root]);
  for (const line of SETUP) {
    const cmd = rewriteSetupLine(line, names);
    if (cmd) sh(cmd.argv[0]!, cmd.argv.slice(1));
  }
  for (const p of PINGS) sh('ip', ['netns', 'exec', names.of(p.from), 'ping', '-n', '-c', '1', '-W', '4', p.to]);
  // Read right after the pings: the answering side's entry is DELAY for delay_first_probe_time (5 s).
  const out: Outputs = new Map();
  for (const ns of NAMESPACES) {
    const views = new Map<View, string>();
    for (const v of VIEWS) views.set(v, sh(...viewArgv(v, ns)));
    out.set(ns, views);
  }
  return out;
}

function runEmulated(): Outputs {
  const yaml = [
    'name: show fidelity',
    'seed: 7',
    'setup:',
    ...SETUP.map((l) => `  - ${JSON.stringify(l)}`),
    'steps:',
    ...PINGS.map((p) => `  - { ping: { from: ${p.from}, to: ${p.to} }, expect: reachable }`),
  ].join('\n');
  const report = runScenario(parseScenario(yaml, 'show-fidelity.yaml'), { tracing: false });
  expect(report.steps.map((s) => s.failures)).toEqual(PINGS.map(() => []));
  const out: Outputs = new Map();
  for (const name of NAMESPACES) {
    const ns = report.kernel.namespaces.get(name)!;
    out.set(
      name,
      new Map<View, string>([
        ['ip -br link', showLinksBrief(ns)],
        ['ip -br addr', showAddrsBrief(ns)],
        ['ip route', showRoutes(ns)],
        ['ip route show table local', showRoutes(ns, 255)],
        ['ip route show table all', showRoutes(ns, 'all')],
        ['ip neigh', showNeigh(ns)],
        ['bridge fdb show', showFdb(ns)],
      ]),
    );
  }
  return out;
}

const MAC = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g;

/** Real MAC → emulator MAC of the same device (by namespace and name), from both `ip -br link` listings. */
function macMap(real: Outputs, emu: Outputs): Map<string, string> {
  const map = new Map<string, string>();
  const byDev = (text: string) =>
    new Map(
      text
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/))
        .map((w) => [w[0]!.split('@')[0]!, w[2]!] as const),
    );
  for (const ns of NAMESPACES) {
    const e = byDev(emu.get(ns)!.get('ip -br link')!);
    for (const [dev, mac] of byDev(real.get(ns)!.get('ip -br link')!)) {
      const to = e.get(dev);
      if (to === undefined) continue; // a missing device shows up in the link comparison itself
      const prev = map.get(mac);
      if (prev !== undefined && prev !== to) throw new Error(`real MAC ${mac} maps to both ${prev} and ${to}`);
      map.set(mac, to);
    }
  }
  return map;
}

function normalise(view: View, text: string, macs: Map<string, string> | null): string {
  let lines = text.split('\n').filter((l) => l.length > 0);
  // The emulator models no IPv6: Linux lists ::1 and fe80:: addresses (every up interface with carrier gets one).
  if (view === 'ip -br addr') lines = lines.map((l) => l.replace(/(?<= )[0-9a-f]*:[0-9a-f:]*\/\d+ /g, ''));
  // Same reason: IPv6 neighbour entries (there are normally none after IPv4 pings, but NDP may add some).
  if (view === 'ip neigh') lines = lines.filter((l) => !l.split(' ')[0]!.includes(':'));
  // Same reason: `table all` also dumps the IPv6 tables (fe80::/64, ::1, ff00::/8 routes).
  if (view === 'ip route show table all')
    lines = lines.filter(
      (l) =>
        !l
          .split(' ')
          .slice(0, 2)
          .some((w) => w.includes(':')),
    );
  // Same reason: the IPv6 multicast groups every IPv6 interface joins (ff02::1, ff02::6a, solicited-node).
  // 01:00:5e:00:00:6a (224.0.0.106, multicast router discovery on an up bridge) is not normalised: it matches.
  if (view === 'bridge fdb show') lines = lines.filter((l) => !l.startsWith('33:33:'));
  // MAC values are random in both worlds: real ones are replaced by the emulator's MAC of the same device.
  if (macs) lines = lines.map((l) => l.replace(MAC, (m) => macs.get(m) ?? m));
  // The kernel's `ip neigh` order follows its hash table; the emulator lists entries in creation order.
  if (view === 'ip neigh') lines.sort();
  return lines.map((l) => `${l}\n`).join('');
}

const skipReason = unavailable();
if (skipReason) console.warn(`show fidelity tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('ip/bridge show output matches real Linux (root)', () => {
  let real: Outputs;
  let emu: Outputs;
  let macs: Map<string, string>;

  beforeAll(() => {
    cleanup();
    try {
      real = runReal();
    } finally {
      cleanup();
    }
    emu = runEmulated();
    macs = macMap(real, emu);
  }, 60_000);

  afterAll(() => {
    cleanup();
  });

  it('leaves no namespace of this run behind', () => {
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  it('saw the fixed MACs and the bridge-takes-smallest-port-MAC rule in Linux too', () => {
    expect(real.get('root')!.get('ip -br link')).toMatch(/^br0 +UP +02:aa:00:00:00:01 /m);
    expect(macs.get('02:bb:00:00:00:09')).toBe('02:bb:00:00:00:09');
  });

  for (const ns of NAMESPACES) {
    for (const view of VIEWS) {
      it(`${ns}: ${view}`, () => {
        const want = normalise(view, real.get(ns)!.get(view)!, macs);
        const got = normalise(view, emu.get(ns)!.get(view)!, null);
        expect(got).toBe(want);
      });
    }
  }
});
