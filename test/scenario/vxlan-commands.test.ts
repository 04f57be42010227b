// `ip link add … type vxlan …` and `bridge fdb … dst … self` as scenario commands: the parsed form (iproute2's
// vxlan_parse_opt keywords, abbreviations and defaults), the line:col errors for what is wrong or not modelled, and
// the kernel's refusals once applied.

import { describe, expect, it } from 'vitest';
import { topology } from '../../src/index.js';
import { parseCommand } from '../../src/scenario/commands/parse.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import type { Command } from '../../src/scenario/types.js';
import { parseIpv4, parseMac } from '../../src/wire/addr.js';

const ip = (s: string): number => parseIpv4(s)!;
const mac = (s: string): number => parseMac(s)!;

function parsed(line: string): Omit<Command, 'pos'> {
  const { pos: _pos, ...rest } = parseCommand(line, 'cmd.yaml');
  return rest;
}

function error(line: string): string {
  try {
    parseCommand(line, 'cmd.yaml');
  } catch (e) {
    if (e instanceof ScenarioError) return e.toString();
    throw e;
  }
  throw new Error(`'${line}' parsed without error`);
}

describe('ip link add … type vxlan', () => {
  it.each<[string, Record<string, unknown>]>([
    [
      'ip netns exec n1 ip link add flannel.1 address 0a:f1:00:00:00:01 type vxlan id 1 local 192.168.50.11 dev eth0 nolearning dstport 8472',
      {
        kind: 'linkAddVxlan',
        ns: 'n1',
        name: 'flannel.1',
        address: mac('0a:f1:00:00:00:01'),
        vni: 1,
        local: ip('192.168.50.11'),
        dev: 'eth0',
        learning: false,
        dstport: 8472,
      },
    ],
    ['ip link add vx0 type vxlan id 42', { kind: 'linkAddVxlan', ns: null, name: 'vx0', vni: 42, learning: true }],
    [
      'ip link add vx0 mtu 1400 type vxlan vni 7 ttl auto udpcsum learning srcport 1000 2000 dstport 0',
      {
        kind: 'linkAddVxlan',
        ns: null,
        name: 'vx0',
        mtu: 1400,
        vni: 7,
        ttl: 0,
        udpCsum: true,
        learning: true,
        srcPort: { min: 1000, max: 2000 },
        dstport: 0,
      },
    ],
    [
      // Abbreviations resolve as in iproute2: `i` id, `loc` local, `hop` hoplimit (ttl), `p` port (srcport),
      // `nol` nolearning, `noudp` noudpcsum; `srcport 0 0` is not sent.
      'ip link add vx0 type vxlan i 3 loc 10.0.0.1 hop 9 p 0 0 nol noudp',
      {
        kind: 'linkAddVxlan',
        ns: null,
        name: 'vx0',
        vni: 3,
        local: ip('10.0.0.1'),
        ttl: 9,
        learning: false,
        udpCsum: false,
      },
    ],
  ])('%s', (line, expected) => {
    expect(parsed(line)).toEqual(expected);
  });

  it.each<[string, string]>([
    [
      'ip link add vx0 type vxlan dstport 8472',
      "cmd.yaml:1:22: 'type vxlan' needs 'id VNI' (vxlan: missing virtual network identifier)",
    ],
    [
      'ip link add vx0 type vxlan id 16777216',
      "cmd.yaml:1:31: invalid VNI '16777216' (expected an integer 0-16777215)",
    ],
    ['ip link add vx0 type vxlan id 1 ttl 256', "cmd.yaml:1:37: invalid TTL '256' (expected an integer 0-255)"],
    ['ip link add vx0 type vxlan id 1 id 2', "cmd.yaml:1:33: 'id' given twice (already 'id')"],
    [
      'ip link add vx0 type vxlan id 1 remote 10.0.0.2',
      "cmd.yaml:1:33: option 'remote' is not supported in 'type vxlan'; supported: id, local, dev, ttl, port, dstport, nolearning, learning, udpcsum, noudpcsum",
    ],
    [
      'ip link add vx0 type vxlan id 1 mtu 1450',
      "cmd.yaml:1:33: unknown option 'mtu' for 'type vxlan'; expected one of: id, local, dev, ttl, port, dstport, nolearning, learning, udpcsum, noudpcsum",
    ],
    [
      'ip link add vx0 type vxlan id 1 ttl inherit',
      "cmd.yaml:1:37: 'ttl inherit' is not supported; use a number 1-255 or auto",
    ],
    ['ip link add vx0 type vxlan id 1 srcport 1000', "cmd.yaml:1:33: missing the highest source port after 'srcport'"],
    ['ip link add vx0 type vxlan id 1 local fe80::1', "cmd.yaml:1:39: IPv6 is not supported: 'fe80::1'"],
  ])('%s', (line, expected) => {
    expect(error(line)).toBe(expected);
  });
});

describe('bridge fdb … dst … self', () => {
  it('parses flannel’s FDB command', () => {
    expect(
      parsed('ip netns exec n1 bridge fdb replace 0a:f1:00:00:00:02 dev flannel.1 dst 192.168.50.12 self permanent'),
    ).toEqual({
      kind: 'fdbAdd',
      op: 'replace',
      ns: 'n1',
      mac: mac('0a:f1:00:00:00:02'),
      dev: 'flannel.1',
      self: true,
      master: false,
      state: 'permanent',
      dst: ip('192.168.50.12'),
    });
  });
});

describe('applied', () => {
  const base = ['ip netns add n', 'ip -n n link add eth0 type veth peer name p0'];
  const fails = (lines: string[]) => {
    try {
      topology(lines);
    } catch (e) {
      if (e instanceof ScenarioError) return e.toString();
      throw e;
    }
    throw new Error('applied without error');
  };

  it('creates the device and programs its FDB', () => {
    const k = topology([
      ...base,
      'ip -n n link add vx0 address 0a:f1:00:00:00:01 type vxlan id 1 dev eth0 dstport 8472 srcport 40000 40100',
      'ip -n n link set vx0 up',
      'ip netns exec n bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2',
      'ip netns exec n bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.3',
    ]);
    const d = k.netns('n').dev('vx0');
    expect(d.mtu).toBe(1450);
    expect(d.linkInfoData()).toBe(
      'id 1 dev eth0 srcport 40000 40100 dstport 8472 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx ',
    );
  });

  it.each<[string[], string]>([
    [
      ['ip -n n link add vx0 type vxlan id 1 dstport 8472', 'ip -n n link add vx1 type vxlan id 1 dstport 8472'],
      '<commands>:4:1: Error: A VXLAN device with the specified VNI already exists.',
    ],
    [['ip -n n link add vx0 type vxlan id 1 dev eth9'], '<commands>:3:1: Cannot find device "eth9"'],
    [['ip -n n link add vx0 type vxlan id 1 srcport 2000 1000'], '<commands>:3:1: Error: Invalid source port range.'],
    [
      ['ip -n n link add vx0 type vxlan id 1 dev eth0', 'ip -n n link set vx0 mtu 1500'],
      '<commands>:4:1: RTNETLINK answers: Invalid argument',
    ],
    [
      [
        'ip -n n link add vx0 type vxlan id 1',
        'ip netns exec n bridge fdb add 0a:f1:00:00:00:02 dev vx0 dst 10.0.0.2 master',
      ],
      '<commands>:4:1: RTNETLINK answers: Operation not supported',
    ],
    [
      ['ip -n n link add vx0 type vxlan id 1', 'ip netns exec n bridge fdb del 0a:f1:00:00:00:02 dev vx0'],
      '<commands>:4:1: RTNETLINK answers: No such file or directory',
    ],
  ])('%j', (lines, expected) => {
    expect(fails([...base, ...lines])).toBe(expected);
  });
});
