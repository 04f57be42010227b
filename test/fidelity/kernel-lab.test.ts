import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePing } from '../../tools/kernel-lab/clients.js';
import {
  kernelLabAvailable,
  LabNames,
  removeStaleNamespaces,
  rewriteSetupLine,
  runKernelLab,
} from '../../tools/kernel-lab/index.js';
import { decodeIpv4, summarize } from '../../tools/kernel-lab/packet.js';
import { readPcap } from '../../tools/kernel-lab/pcap.js';
import { splitWords } from '../../tools/kernel-lab/shellwords.js';
import type { LabInput } from '../../tools/kernel-lab/types.js';

describe('kernel-lab: command rewriting (no root needed)', () => {
  const names = new LabNames('4242xabc123');
  const argv = (line: string) => rewriteSetupLine(line, names)?.argv;
  const root = 'pw-lab-4242xabc123-root';
  const ns = (n: string) => `pw-lab-4242xabc123-${n}`;

  it('splits words like a shell and refuses what needs one', () => {
    expect(splitWords(`ip netns exec a sh -c 'echo "x y"' # comment`).map((w) => w.text)).toEqual([
      'ip',
      'netns',
      'exec',
      'a',
      'sh',
      '-c',
      'echo "x y"',
    ]);
    expect(splitWords('echo a\\ b "c\\"d"').map((w) => w.text)).toEqual(['echo', 'a b', 'c"d']);
    expect(() => splitWords('ip link | grep x')).toThrow(/operator `\|`/);
    expect(() => splitWords('ip addr add $ADDR dev eth0')).toThrow(/expansion/);
    expect(() => splitWords("ip link set 'x")).toThrow(/unterminated/);
  });

  it('maps every namespace name and runs namespace-less lines in the lab root', () => {
    expect(argv('ip netns add a')).toEqual(['ip', 'netns', 'add', ns('a')]);
    expect(argv('ip -n a addr add 10.0.0.1/24 dev eth0')).toEqual([
      'ip',
      '-n',
      ns('a'),
      'addr',
      'add',
      '10.0.0.1/24',
      'dev',
      'eth0',
    ]);
    expect(argv('ip --netns b link set lo up')).toEqual(['ip', '-n', ns('b'), 'link', 'set', 'lo', 'up']);
    expect(argv('ip link add va type veth peer name vb netns b')).toEqual([
      'ip',
      'netns',
      'exec',
      root,
      'ip',
      'link',
      'add',
      'va',
      'type',
      'veth',
      'peer',
      'name',
      'vb',
      'netns',
      ns('b'),
    ]);
    expect(argv('ip netns exec r sysctl -w net.ipv4.ip_forward=1')).toEqual([
      'ip',
      'netns',
      'exec',
      ns('r'),
      'sysctl',
      '-w',
      'net.ipv4.ip_forward=1',
    ]);
    expect(argv('ip net e r ip link set veth1 netns a')).toEqual([
      'ip',
      'netns',
      'exec',
      ns('r'),
      'ip',
      'link',
      'set',
      'veth1',
      'netns',
      ns('a'),
    ]);
    expect(argv('bridge fdb add 02:00:00:00:00:01 dev vx0 dst 10.0.0.2')).toEqual([
      'ip',
      'netns',
      'exec',
      root,
      'bridge',
      'fdb',
      'add',
      '02:00:00:00:00:01',
      'dev',
      'vx0',
      'dst',
      '10.0.0.2',
    ]);
    expect(argv('bridge -n a fdb show')).toEqual(['bridge', '-n', ns('a'), 'fdb', 'show']);
    expect(argv('ip link add br0 type bridge')).toEqual([
      'ip',
      'netns',
      'exec',
      root,
      'ip',
      'link',
      'add',
      'br0',
      'type',
      'bridge',
    ]);
    expect(argv('   # only a comment')).toBeUndefined();
  });

  it('turns echo into /proc/sys into sysctl in the namespace it would have written in', () => {
    expect(argv('echo 1 > /proc/sys/net/ipv4/ip_forward')).toEqual([
      'ip',
      'netns',
      'exec',
      root,
      'sysctl',
      '-w',
      'net/ipv4/ip_forward=1',
    ]);
    expect(argv("ip netns exec r sh -c 'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter'")).toEqual([
      'ip',
      'netns',
      'exec',
      ns('r'),
      'sysctl',
      '-w',
      'net/ipv4/conf/all/rp_filter=0',
    ]);
    expect(argv('ip netns exec r echo 1 > /proc/sys/net/ipv4/ip_forward')?.slice(3)).toEqual([
      ns('r'),
      'sysctl',
      '-w',
      'net/ipv4/ip_forward=1',
    ]);
  });

  it('refuses what would act outside the lab', () => {
    expect(() => argv('ip -all netns exec ip link')).toThrow(/every namespace/);
    expect(() => argv('ip netns delete -all')).toThrow(/every namespace/);
    expect(() => argv('ip link set eth0 netns 1')).toThrow(/PID/);
    expect(() => argv('nsenter -t 1 -n ip link')).toThrow(/nsenter/);
    expect(() => argv('sysctl -w kernel.pid_max=100000')).toThrow(/not per network namespace/);
    expect(() => argv('echo 1 > /proc/sys/kernel/sysrq')).toThrow(/only \/proc\/sys\/net/);
    expect(() => argv('echo 1 > /proc/sys/net/../kernel/sysrq')).toThrow(/'\.\.' path segment/);
    expect(() => argv('sysctl -w net/../kernel/sysrq=1')).toThrow(/'\.\.' path segment/);
    expect(() => argv('ip netns add root')).toThrow(/reserved/);
    expect(() => argv('ip netns attach x 1')).toThrow(/not supported/);
    expect(() => argv('ip -b cmds.txt')).toThrow(/batch/);
    expect(() => argv('ip netns exec a cat /proc/1/ns/net')).toThrow(/outside the lab/);
  });
});

describe('kernel-lab: capture and ping parsing (no root needed)', () => {
  it('reads an SLL2 pcap and decodes a TCP SYN like tcpdump', () => {
    // Global header (LE, µs) + one SLL2 record holding a SYN captured on ifindex 2, outgoing.
    const syn = [
      0x45, 0, 0, 60, 0x29, 0x14, 0x40, 0, 64, 6, 0, 0, 10, 0, 1, 2, 10, 0, 3, 2, 0xad, 0x1e, 0x1f, 0x90, 0x4a, 0x39,
      0x6f, 0xa4, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0, 0, 0, 0, 0, 2, 4, 5, 0xb4, 4, 2, 8, 10, 0xe8, 0x11, 0x3c, 0x74, 0,
      0, 0, 0, 1, 3, 3, 10,
    ];
    const sll2 = [8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    const rec = [...sll2, ...syn];
    const file = new Uint8Array(24 + 16 + rec.length);
    const dv = new DataView(file.buffer);
    dv.setUint32(0, 0xa1b2c3d4, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setUint32(16, 262144, true);
    dv.setUint32(20, 276, true);
    dv.setUint32(24, 1000, true);
    dv.setUint32(28, 5, true);
    dv.setUint32(32, rec.length, true);
    dv.setUint32(36, rec.length, true);
    file.set(rec, 40);
    const [f] = readPcap(file);
    expect(f).toMatchObject({ tsUs: 1000_000_005, ifindex: 2, pktType: 4, protocol: 0x0800 });
    const ip = decodeIpv4(f!.payload)!;
    expect(ip).toMatchObject({ src: '10.0.1.2', dst: '10.0.3.2', ttl: 64, len: 60, df: true });
    expect(ip.tcp).toMatchObject({ sport: 44318, dport: 8080, flags: 'S', win: 64240, mss: 1460 });
    expect(summarize(ip)).toBe(
      'TCP 44318 > 8080: Flags [S], seq 1245278116, win 64240, options [mss 1460,sackOK,TS val 3893443700 ecr 0,nop,wscale 10], length 0',
    );
  });

  it('parses iputils ping replies and ICMP error lines', () => {
    const out = parsePing(
      [
        'PING 10.0.3.2 (10.0.3.2) 56(84) bytes of data.',
        '64 bytes from 10.0.3.2: icmp_seq=1 ttl=62 time=0.732 ms',
        'From 10.0.1.1 icmp_seq=2 Time to live exceeded',
        'From 10.0.1.2 icmp_seq=3 Destination Host Unreachable',
      ].join('\n'),
      'ping: connect: Network is unreachable\n',
    );
    expect(out.replies).toEqual([{ from: '10.0.3.2', seq: 1, ttl: 62 }]);
    expect(out.errors).toEqual([
      { from: '10.0.1.1', seq: 2, text: 'Time to live exceeded' },
      { from: '10.0.1.2', seq: 3, text: 'Destination Host Unreachable' },
    ]);
    expect(out.failures).toEqual(['connect: Network is unreachable']);
  });
});

const avail = kernelLabAvailable();
if (!avail.ok) console.warn(`kernel-lab fidelity tests skipped: ${avail.why}`);

// a (10.0.0.1) ── veth ── b (10.0.0.2, TCP 8080 open, 9 closed); 10.0.0.99 is on-link but owned by nobody.
const TWO_HOSTS: LabInput = {
  setup: [
    { text: 'ip netns add a' },
    { text: 'ip netns add b' },
    { text: 'ip link add veth-a netns a type veth peer name veth-b netns b' },
    { text: 'ip -n a addr add 10.0.0.1/24 dev veth-a' },
    { text: 'ip -n b addr add 10.0.0.2/24 dev veth-b' },
    { text: 'ip -n a link set veth-a up' },
    { text: 'ip -n b link set veth-b up' },
    { text: 'ip -n a link set lo up' },
    { text: 'ip -n b link set lo up' },
  ],
  listen: [{ ns: 'b', proto: 'tcp', port: 8080, reply: 'pong' }],
  steps: [
    { kind: 'ping', from: 'a', to: '10.0.0.2' },
    { kind: 'connect', from: 'a', to: '10.0.0.2', port: 9, proto: 'tcp', payload: 'hello' },
    { kind: 'connect', from: 'a', to: '10.0.0.2', port: 8080, proto: 'tcp', payload: 'ping' },
    { kind: 'ping', from: 'a', to: '10.0.0.99' },
  ],
};

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.length > 0);
}

function labNamespacesOfThisProcess(): string[] {
  return namespaces().filter((n) => n.startsWith(`pw-lab-${process.pid}x`));
}

describe.skipIf(!avail.ok)('kernel-lab: real Linux (root)', () => {
  it('reports what Linux did on two namespaces joined by a veth, and leaves nothing behind', async () => {
    const [ping, closed, open, noOwner] = await runKernelLab(TWO_HOSTS, { timeoutMs: 18_000 });

    expect(ping).toMatchObject({ result: 'reachable', replyFrom: '10.0.0.2', replyTtl: 64 });
    const echo = ping!.packets.filter((p) => p.summary.startsWith('ICMP echo'));
    expect(echo.map((p) => [p.dir, p.dev, p.src, p.dst, p.ttl, p.len])).toEqual([
      ['out', 'veth-a', '10.0.0.1', '10.0.0.2', 64, 84],
      ['in', 'veth-a', '10.0.0.2', '10.0.0.1', 64, 84],
    ]);

    // Closed TCP port: the peer's stack answers the SYN with RST+ACK, seq 0, ack = ISN + 1, window 0.
    expect(closed).toMatchObject({ result: 'refused', replyFrom: '10.0.0.2', replyTtl: 64, detail: 'ECONNREFUSED' });
    expect(closed!.icmp).toBeUndefined();
    const syn = closed!.packets.find((p) => p.dir === 'out' && p.summary.includes('Flags [S]'))!;
    const rst = closed!.packets.find((p) => p.dir === 'in' && p.summary.includes('Flags [R.]'))!;
    const isn = Number(/seq (\d+)/.exec(syn.summary)![1]);
    expect(rst.summary).toMatch(new RegExp(`seq 0, ack ${(isn + 1) % 2 ** 32}, win 0, length 0$`));
    expect(syn.summary).toMatch(/options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale \d+\]/);

    expect(open).toMatchObject({ result: 'reachable', replyPayload: 'pong', replyFrom: '10.0.0.2', replyTtl: 64 });

    // Nobody owns 10.0.0.99: ARP fails and a's own stack reports host unreachable to itself, over lo.
    expect(noOwner).toMatchObject({
      result: 'unreachable',
      replyFrom: '10.0.0.1',
      replyTtl: 64,
      icmp: 'host-unreachable',
    });
    const err = noOwner!.packets.find((p) => p.summary.startsWith('ICMP host-unreachable'))!;
    expect(err).toMatchObject({ dir: 'in', dev: 'lo', src: '10.0.0.1', dst: '10.0.0.1' });
    expect(err.tMs).toBeGreaterThan(2900);

    expect(labNamespacesOfThisProcess()).toEqual([]);
  }, 25_000);

  it('fails loudly, naming the command, when Linux rejects a setup line, and still cleans up', async () => {
    const input: LabInput = {
      setup: [{ text: 'ip netns add a' }, { text: 'ip -n a addr add 10.0.0.1/24 dev nosuchdev' }],
      listen: [],
      steps: [],
    };
    await expect(runKernelLab(input, { timeoutMs: 10_000 })).rejects.toThrow(
      /`ip -n a addr add 10.0.0.1\/24 dev nosuchdev` \(ran: ip -n pw-lab-\d+x[0-9a-f]+-a addr add .*\) failed in Linux/,
    );
    expect(labNamespacesOfThisProcess()).toEqual([]);
  });

  it('gives up at its time bound and still removes everything it created', async () => {
    const input: LabInput = {
      setup: [
        { text: 'ip netns add a' },
        { text: 'ip -n a link add v0 type veth peer name v1' },
        { text: 'ip -n a addr add 10.0.0.1/24 dev v0' },
        { text: 'ip -n a link set v0 up' },
        { text: 'ip -n a link set v1 up' },
      ],
      listen: [],
      steps: [{ kind: 'ping', from: 'a', to: '10.0.0.99' }],
    };
    const t0 = Date.now();
    await expect(runKernelLab(input, { timeoutMs: 1500 })).rejects.toThrow(/exceeded 1500 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(labNamespacesOfThisProcess()).toEqual([]);
  });

  it('removes namespaces a crashed run left behind, never those of a run still alive', async () => {
    const deadPid = spawnSync('true').pid!;
    const crashed = `pw-lab-${deadPid}x000000-a`;
    const alive = `pw-lab-${process.ppid}x000000-a`;
    execFileSync('ip', ['netns', 'add', crashed]);
    execFileSync('ip', ['netns', 'add', alive]);
    try {
      const removed = await removeStaleNamespaces();
      expect(removed).toContain(crashed);
      expect(removed).not.toContain(alive);
      const left = namespaces();
      expect(left).not.toContain(crashed);
      expect(left).toContain(alive);
    } finally {
      for (const n of [crashed, alive]) spawnSync('ip', ['netns', 'delete', n]);
    }
  });
});
