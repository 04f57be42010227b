// Fidelity: the command lines this parser accepts (abbreviations included) are accepted by the real tools too,
// and lines it rejects as malformed are rejected by them. Runs each line with `ip netns exec` inside a
// throw-away namespace; needs root and iproute2, and is skipped with a message otherwise.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/scenario/commands/parse.js';
import { textSource, tokenize } from '../../src/scenario/commands/tokenize.js';
import { ScenarioError } from '../../src/scenario/errors.js';

const NS = `pw-scenario-${process.pid}`;

function run(cmd: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { status: r.error ? -1 : r.status, stderr: r.stderr ?? '' };
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const haveTools = run('ip', ['-V']).status === 0 && run('bridge', ['-V']).status === 0;
const skipReason = !isRoot ? 'needs root' : !haveTools ? 'needs iproute2 (ip, bridge)' : '';
if (skipReason) console.warn(`iproute2 agreement test skipped: ${skipReason}`);

function inNamespace(line: string): { status: number | null; stderr: string } {
  const words = tokenize(textSource(line))[0]!.tokens.map((t) => t.text);
  return run('ip', ['netns', 'exec', NS, ...words]);
}

function ours(line: string): boolean {
  try {
    parseCommand(line);
    return true;
  } catch (e) {
    if (e instanceof ScenarioError) return false;
    throw e;
  }
}

// In order: later lines use what earlier ones created.
const ACCEPTED = [
  'ip link add v0 type veth peer name v1',
  'ip li add v2 ty veth peer v3',
  'ip l a br0 ty bridge stp_state 0 ageing_time 30000',
  'ip link add br1 type bridge st 1 age 100',
  'ip link set v0 m br0',
  'ip link set v0 n',
  'ip link set dev v0 master br0 mtu 1400 up',
  'ip l s v1 a 02:00:00:00:00:09',
  'ip link set v1 promisc on',
  'ip link set dev v1 name eth0',
  'ip a a 10.0.0.1/24 dev eth0 brd +',
  'ip addr add 10.0.1.1/24 broadcast 10.0.1.127 dev eth0 scope global label eth0:x',
  'ip address add local 10.0.2.1 dev eth0',
  'ip link set eth0 up',
  'ip r a 10.1.0.0/16 via 10.0.0.2 dev eth0 metric 5',
  'ip route add blackhole 10.3.0.0/16',
  'ip route add unreachable 10.4.0.0/16',
  'ip route add prohibit 10.6.0.0/16 proto static',
  'ip route add 10.5.0.0/16 dev eth0 pr 7 table 100',
  'ip route add to 10.9.0.0/16 oif eth0 onlink via 10.0.0.9 src 10.0.0.1 mtu 1400 advmss 1360',
  'ip route add local 10.7.0.1 dev lo',
  'ip r r 10.1.0.0/16 via 10.0.0.3',
  'ip route append 10.8.0.0/16 via 10.0.0.2',
  'ip route change 10.8.0.0/16 via 10.0.0.4',
  'ip route del 10.5.0.0/16 table 100',
  'ip r d blackhole 10.3.0.0/16',
  'ip n a 10.0.0.4 l 02:00:00:00:00:04 dev eth0 nud perm',
  'ip neigh replace 10.0.0.4 lladdr 02:00:00:00:00:05 dev eth0 nud stale',
  'ip neighbour add to 10.0.0.5 lladdr 02:00:00:00:00:06 dev eth0 nud noarp',
  'ip ne d 10.0.0.4 dev eth0',
  'bridge fdb add 02:42:ac:11:00:02 dev v0 master static',
  'bridge fdb a 02:42:ac:11:00:03 dev v0 master s',
  'bridge fdb add 02:42:ac:11:00:04 dev v0 master',
  'bridge fdb replace 02:42:ac:11:00:04 dev v0 master static',
  'bridge fdb del 02:42:ac:11:00:02 dev v0 master',
  'bridge link set dev v0 hairpin on learning off flood off',
  'bridge l s dev v0 hairpin off',
  'sysctl -w net.ipv4.ip_forward=1',
  'sysctl -qw net/ipv4/conf/all/forwarding=1',
  'sysctl net.ipv4.conf.eth0.rp_filter=2',
  'ip addr del 10.0.1.1/24 dev eth0',
  'ip a f eth0',
  'ip link del v2',
  'ip link delete dev v0 type veth',
];

// Rejected by iproute2's own parser (not by the kernel).
const REJECTED = [
  'ip link add v9 t veth peer name v8',
  'ip link set lo upp',
  'ip link set lo promisc yes',
  'ip addr add 10.0.0.1/33 dev lo',
  'ip route add 10.0.0.0/8 via 10.0.0.1 via 10.0.0.2',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:01 dev lo nud bogus',
  'ip link sett lo up',
  'bridge link set dev lo hairpin maybe',
];

describe.skipIf(skipReason !== '')('agreement with iproute2', () => {
  beforeAll(() => {
    run('ip', ['netns', 'del', NS]);
    expect(run('ip', ['netns', 'add', NS]).status).toBe(0);
  });
  afterAll(() => {
    run('ip', ['netns', 'del', NS]);
  });

  it('accepts what Linux accepts', () => {
    for (const line of ACCEPTED) {
      expect(ours(line), line).toBe(true);
      const r = inNamespace(line);
      expect(r.status, `${line}: ${r.stderr}`).toBe(0);
    }
  });

  it('rejects what iproute2 rejects', () => {
    for (const line of REJECTED) {
      expect(ours(line), line).toBe(false);
      expect(inNamespace(line).status, line).not.toBe(0);
    }
  });
});
