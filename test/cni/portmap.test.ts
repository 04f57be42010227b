import { describe, expect, it } from 'vitest';
import { MemFs } from '../../src/cni/fs.js';
import { portmapPlugin } from '../../src/cni/plugins/portmap.js';
import { decodeResult } from '../../src/cni/spec/index.js';
import { CniError, type NetConf, type PluginEnv, type Result, type RuntimeInputs } from '../../src/cni/types.js';
import { conntrackList, enableNetfilter, iptables } from '../../src/iptables/index.js';
import { Kernel } from '../../src/netns/kernel.js';
import type { NetNs } from '../../src/netns/netns.js';
import { UdpClient } from '../../src/netns/udp.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { nat, natWithoutBridge, REAL, sh } from './helpers.js';

interface Setup {
  k: Kernel;
  host: NetNs;
  pods: NetNs[];
  env: PluginEnv;
}

/** A host with a cni0 that routes 10.1.0.0/16 (as the bridge plugin would leave it) and two pod namespaces. */
function setup(): Setup {
  const k = new Kernel({ seed: 7 });
  enableNetfilter(k);
  sh(
    k,
    `ip netns add host
ip netns add pod1
ip netns add pod2
ip -n host link add cni0 type dummy
ip -n host addr add 10.1.0.1/16 dev cni0
ip -n host link set cni0 up`,
  );
  const host = k.netns('host');
  return { k, host, pods: [k.netns('pod1'), k.netns('pod2')], env: { kernel: k, host, fs: new MemFs() } };
}

function conf(prev: Result | undefined, mappings: unknown[] | undefined, extra: Record<string, unknown> = {}): NetConf {
  return {
    cniVersion: '1.0.0',
    name: 'dbnet',
    type: 'portmap',
    snat: true,
    ...extra,
    ...(mappings ? { runtimeConfig: { portMappings: mappings } } : {}),
    ...(prev ? { prevResult: prev } : {}),
  } as NetConf;
}

function rt(s: Setup, i: number): RuntimeInputs {
  return { containerId: REAL.ids[i]!, netns: s.pods[i]!, ifName: 'eth0', args: {}, capabilityArgs: {} };
}

const prev1 = decodeResult(REAL.bridgeResult1, '1.0.0');
const prev2 = decodeResult(REAL.bridgeResult2, '1.0.0');

function errorOf(f: () => unknown): CniError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected an error');
}

describe('portmap against the real plugin', () => {
  it('writes the nat rules the reference plugin wrote, pod after pod, and DEL removes exactly one pod’s', () => {
    const s = setup();
    const out = portmapPlugin.add(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    expect(out).toEqual(prev1);
    expect(nat(s.host)).toBe(natWithoutBridge(REAL.natAfterPortmap1));
    portmapPlugin.add(conf(prev2, REAL.mappings2), rt(s, 1), s.env);
    expect(nat(s.host)).toBe(natWithoutBridge(REAL.natAfterPortmap2));
    // The SNAT hairpin needs 127.0.0.0/8 to cross cni0.
    expect(s.host.sysctl.get('net.ipv4.conf.cni0.route_localnet')).toBe(REAL.routeLocalnetCni0);
    portmapPlugin.check(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    portmapPlugin.del(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    expect(nat(s.host)).toBe(natWithoutBridge(REAL.natAfterDel1));
  });

  it('CHECK fails once DEL removed the chain, with the reference message; DEL again is a no-op', () => {
    const s = setup();
    portmapPlugin.add(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    portmapPlugin.del(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    const e = errorOf(() => portmapPlugin.check(conf(prev1, REAL.mappings1), rt(s, 0), s.env));
    expect(e.code).toBe(999);
    expect(e.message).toBe(JSON.parse(REAL.checkAfterDel.stdout).msg);
    const before = nat(s.host);
    portmapPlugin.del(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    // DEL needs no prevResult: the jumps are found by listing CNI-HOSTPORT-DNAT.
    portmapPlugin.del(conf(undefined, REAL.mappings1), rt(s, 0), s.env);
    expect(nat(s.host)).toBe(before);
  });

  it('CHECK notices a rule that went missing', () => {
    const s = setup();
    portmapPlugin.add(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    const chain = nat(s.host).match(/CNI-DN-[0-9a-f]{21}/)![0];
    iptables(s.host, [
      '-t',
      'nat',
      '-D',
      chain,
      '-p',
      'udp',
      '-m',
      'udp',
      '--dport',
      '5353',
      '-j',
      'DNAT',
      '--to-destination',
      '10.1.0.2:53',
    ]);
    const e = errorOf(() => portmapPlugin.check(conf(prev1, REAL.mappings1), rt(s, 0), s.env));
    expect(e.message).toMatch(
      new RegExp(
        `^could not check ipv4 dnat: rule \\[\\[-p tcp --dport 8080 -s 10\\.1\\.0\\.2/16 -j CNI-HOSTPORT-SETMARK\\] .* in chain ${chain} not found in table nat$`,
      ),
    );
  });

  it('removes jumps that a stale configuration no longer describes (the "hard way")', () => {
    const s = setup();
    portmapPlugin.add(conf(prev1, REAL.mappings1), rt(s, 0), s.env);
    // DEL with other mappings than ADD had: the jumps are still found and removed.
    portmapPlugin.del(conf(prev1, [{ hostPort: 1, containerPort: 1, protocol: 'tcp' }]), rt(s, 0), s.env);
    expect(nat(s.host)).not.toMatch(/CNI-DN-/);
  });
});

describe('portmap options', () => {
  const maps = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }];

  it('without snat: no mark chains, no hairpin rules', () => {
    const s = setup();
    portmapPlugin.add(conf(prev1, maps, { snat: false }), rt(s, 0), s.env);
    const t = nat(s.host);
    expect(t).not.toMatch(/SETMARK|MASQ/);
    expect(t).toMatch(/-A CNI-DN-[0-9a-f]{21} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10\.1\.0\.2:80$/m);
    expect(s.host.sysctl.get('net.ipv4.conf.cni0.route_localnet')).toBe('0');
  });

  it('masqAll marks every source, markMasqBit moves the mark, conditionsV4 narrow the entry rule', () => {
    const s = setup();
    portmapPlugin.add(
      conf(prev1, maps, { masqAll: true, markMasqBit: 14, conditionsV4: ['-s', '192.0.2.0/24'] }),
      rt(s, 0),
      s.env,
    );
    const t = nat(s.host);
    expect(t).toMatch(/ -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK$/m);
    expect(t).not.toMatch(/127\.0\.0\.1/);
    expect(t).toContain(
      '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x4000/0x4000',
    );
    expect(t).toContain('-A CNI-HOSTPORT-MASQ -m mark --mark 0x4000/0x4000 -j MASQUERADE');
    expect(t).toMatch(
      /-A CNI-HOSTPORT-DNAT -s 192\.0\.2\.0\/24 -p tcp -m comment .* -m multiport --dports 8080 -j CNI-DN-/,
    );
  });

  it('splits more than 15 ports of a protocol over several multiport rules', () => {
    const s = setup();
    const many = Array.from({ length: 17 }, (_, i) => ({ hostPort: 9000 + i, containerPort: 80, protocol: 'tcp' }));
    portmapPlugin.add(conf(prev1, many), rt(s, 0), s.env);
    const entries = nat(s.host)
      .split('\n')
      .filter((l) => l.startsWith('-A CNI-HOSTPORT-DNAT'));
    expect(entries.map((l) => l.match(/--dports (\S+)/)![1])).toEqual([
      Array.from({ length: 15 }, (_, i) => 9000 + i).join(','),
      '9015,9016',
    ]);
  });

  it('passes the result through untouched when there is nothing to map', () => {
    const s = setup();
    expect(portmapPlugin.add(conf(prev1, undefined), rt(s, 0), s.env)).toEqual(prev1);
    expect(portmapPlugin.add(conf(prev1, []), rt(s, 0), s.env)).toEqual(prev1);
    expect(nat(s.host)).not.toMatch(/CNI-/);
  });

  it('skips addresses of other interfaces and mappings of another address family', () => {
    const s = setup();
    const prev: Result = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'cni0' }, { name: 'eth0', sandbox: '/var/run/netns/pod1' }],
      ips: [
        { address: '10.1.0.1/16', interface: 0 },
        { address: '10.1.0.7/16', interface: 1 },
      ],
    };
    portmapPlugin.add(
      conf(prev, [...maps, { hostPort: 8081, containerPort: 81, protocol: 'tcp', hostIP: 'fd00::1' }]),
      rt(s, 0),
      s.env,
    );
    const t = nat(s.host);
    expect(t).toContain('--to-destination 10.1.0.7:80');
    // The entry rule lists every host port (as the reference does); the pod's chain only those of its family.
    expect(t).toMatch(/--dports 8080,8081 -j CNI-DN-/);
    expect(t).not.toMatch(/--dport 8081/);
  });

  it.each([
    [
      { markMasqBit: 3, externalSetMarkChain: 'KUBE-MARK-MASQ' },
      999,
      'failed to parse config: Cannot specify externalSetMarkChain and markMasqBit',
    ],
    [{ markMasqBit: 32 }, 999, 'failed to parse config: MasqMarkBit must be between 0 and 31'],
    [{ backend: 'nftables' }, 2, 'failed to parse config: unsupported field "backend": "nftables"'],
    [
      { conditionsV4: ['ip', 'saddr', '1.2.3.4'] },
      999,
      'failed to parse config: iptables backend was requested but configuration contains nftables-specific options [conditionsV4]',
    ],
    [
      { snat: 'yes' },
      999,
      'failed to parse config: failed to parse network configuration: json: cannot unmarshal string into Go struct field PortMapConf.snat of type bool',
    ],
  ])('refuses %j', (extra, code, msg) => {
    const s = setup();
    const e = errorOf(() => portmapPlugin.add(conf(prev1, maps, extra), rt(s, 0), s.env));
    expect([e.code, e.message]).toEqual([code, msg]);
  });

  it('refuses bad port numbers and needs a previous result', () => {
    const s = setup();
    expect(
      errorOf(() =>
        portmapPlugin.add(conf(prev1, [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }]), rt(s, 0), s.env),
      ).message,
    ).toBe('failed to parse config: Invalid host port number: 0');
    expect(errorOf(() => portmapPlugin.add(conf(undefined, maps), rt(s, 0), s.env)).message).toBe(
      'must be called as chained plugin',
    );
    expect(errorOf(() => portmapPlugin.check(conf(undefined, maps), rt(s, 0), s.env)).message).toBe(
      'Required prevResult missing',
    );
  });

  it('an externalSetMarkChain is used instead of the plugin’s own mark chains', () => {
    const s = setup();
    iptables(s.host, ['-t', 'nat', '-N', 'KUBE-MARK-MASQ']);
    portmapPlugin.add(conf(prev1, maps, { externalSetMarkChain: 'KUBE-MARK-MASQ' }), rt(s, 0), s.env);
    const t = nat(s.host);
    expect(t).not.toMatch(/CNI-HOSTPORT-SETMARK|CNI-HOSTPORT-MASQ/);
    expect(t).toMatch(/-s 10\.1\.0\.0\/16 -p tcp -m tcp --dport 8080 -j KUBE-MARK-MASQ$/m);
  });

  it('flushes conntrack entries of mapped UDP ports only', () => {
    const s = setup();
    sh(
      s.k,
      `ip netns add client
ip link add c0 netns client type veth peer name eth0 netns host
ip -n host addr add 192.168.1.10/24 dev eth0
ip -n host link set eth0 up
ip -n client addr add 192.168.1.20/24 dev c0
ip -n client link set c0 up`,
    );
    // Two UDP flows towards the host, one on a port about to be mapped, recorded by conntrack before the mapping.
    iptables(s.host, ['-t', 'filter', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW']);
    const client = s.k.netns('client');
    for (const port of [5353, 5454])
      new UdpClient(client, parseIpv4('192.168.1.10')!, port, new Uint8Array(4), null, 1e9).start();
    s.k.run(s.k.now + 1e6);
    const before = conntrackList(s.host);
    expect(before).toMatch(/dport=5353/);
    portmapPlugin.add(conf(prev1, [{ hostPort: 5353, containerPort: 53, protocol: 'udp' }]), rt(s, 0), s.env);
    const after = conntrackList(s.host);
    expect(after).not.toMatch(/dport=5353/);
    expect(after).toMatch(/dport=5454/);
  });
});
