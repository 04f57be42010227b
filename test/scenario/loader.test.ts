import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenario, parseScenario } from '../../src/scenario/loader.js';
import { parseIpv4 } from '../../src/wire/addr.js';

const ip = (s: string): number => parseIpv4(s)!;
const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

function failure(text: string, file = 's.yaml'): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('parsed without error');
}

const error = (text: string): string => failure(text).toString();

const EXAMPLE = doc(
  'name: pods on one bridge',
  'description: |',
  '  free text',
  'seed: 1',
  'setup:',
  '  - ip netns add a',
  '  - ip link add br0 type bridge',
  '  - ip -n a addr add 10.0.0.1/24 dev eth0',
  '  - ip netns exec a ip link set eth0 up',
  'listen:',
  '  - { ns: b, proto: tcp, port: 80, reply: "HTTP/1.0 200 OK\\r\\n\\r\\nhello" }',
  '  - { ns: b, proto: udp, port: 53, reply: "pong" , address: 10.0.0.2 }',
  'steps:',
  '  - ping: { from: a, to: 10.0.0.2, count: 1, ttl: 64, size: 56 }',
  '    expect: reachable',
  '  - connect: { from: a, to: "10.0.0.2:80", proto: tcp, payload: "GET / HTTP/1.0\\r\\n\\r\\n" }',
  '    name: fetch',
  '    expect:',
  '      result: reachable',
  '      replyFrom: 10.0.0.2',
  '      icmp: time-exceeded',
  '      drop: TTL_EXPIRED',
  '      via: [ "router:eth1", "b:eth0" ]',
  '      replyTtl: 63',
);

describe('parseScenario', () => {
  it('reads the documented example', () => {
    const s = parseScenario(EXAMPLE, 'ex.yaml');
    const at = (line: number, col: number) => ({ file: 'ex.yaml', line, col });
    expect(s.name).toBe('pods on one bridge');
    expect(s.description).toBe('free text\n');
    expect(s.seed).toBe(1);
    expect(s.setup.map((c) => [c.kind, c.ns, c.pos])).toEqual([
      ['netnsAdd', null, at(6, 5)],
      ['linkAddBridge', null, at(7, 5)],
      ['addrAdd', 'a', at(8, 5)],
      ['linkSet', 'a', at(9, 5)],
    ]);
    expect(s.listen).toEqual([
      { pos: at(11, 5), ns: 'b', proto: 'tcp', port: 80, reply: 'HTTP/1.0 200 OK\r\n\r\nhello' },
      { pos: at(12, 5), ns: 'b', proto: 'udp', port: 53, reply: 'pong', address: ip('10.0.0.2') },
    ]);
    expect(s.steps).toEqual([
      {
        kind: 'ping',
        pos: at(14, 5),
        from: 'a',
        to: ip('10.0.0.2'),
        count: 1,
        ttl: 64,
        size: 56,
        expect: { result: 'reachable' },
      },
      {
        kind: 'connect',
        pos: at(16, 5),
        name: 'fetch',
        proto: 'tcp',
        from: 'a',
        to: ip('10.0.0.2'),
        port: 80,
        payload: 'GET / HTTP/1.0\r\n\r\n',
        expect: {
          result: 'reachable',
          replyFrom: ip('10.0.0.2'),
          icmp: 'time-exceeded',
          drop: 'TTL_EXPIRED',
          via: [
            { ns: 'router', dev: 'eth1' },
            { ns: 'b', dev: 'eth0' },
          ],
          replyTtl: 63,
        },
      },
    ]);
  });

  it('fills defaults', () => {
    const s = parseScenario(
      doc(
        'name: x',
        'listen: [{ ns: b, proto: tcp, port: 80 }]',
        'steps:',
        '  - ping: { from: root, to: 10.0.0.2, src: 10.0.0.9 }',
        '    expect: unreachable',
        '  - connect: { from: a, to: 10.0.0.2:53 }',
        '    expect: refused',
      ),
      'd.yaml',
    );
    expect(s.seed).toBe(1);
    expect(s.setup).toEqual([]);
    expect(s.listen[0]!.reply).toBe('');
    expect(s.steps[0]).toMatchObject({ kind: 'ping', from: 'root', src: ip('10.0.0.9'), count: 1, size: 56 });
    expect(s.steps[0]).not.toHaveProperty('ttl');
    expect(s.steps[1]).toMatchObject({
      kind: 'connect',
      proto: 'tcp',
      port: 53,
      payload: '',
      expect: { result: 'refused' },
    });
  });

  it('reads a literal block of commands with comments, blank lines and continuations', () => {
    const s = parseScenario(
      doc(
        'name: block',
        'setup: |  # the lab',
        '  # namespaces',
        '  ip netns add a',
        '',
        '  ip link add veth0 type veth \\',
        '      peer name veth1 netns a',
        '    sysctl -w net.ipv4.ip_forward=1',
        'steps: []',
      ),
      'b.yaml',
    );
    expect(s.setup.map((c) => [c.kind, c.pos.line, c.pos.col])).toEqual([
      ['netnsAdd', 4, 3],
      ['linkAddVeth', 6, 3],
      ['sysctl', 8, 5],
    ]);
    const sysctl = s.setup[2]!;
    expect(sysctl.kind === 'sysctl' && sysctl.settings[0]!.pos).toEqual({ file: 'b.yaml', line: 8, col: 15 });
  });

  it('accepts a one-line setup string and quoted list items', () => {
    const s = parseScenario(
      doc('name: q', 'setup:', '  - "ip link set \\"eth0\\" up"', "  - 'ip link set ''eth1'' up'"),
      'q.yaml',
    );
    expect(s.setup.map((c) => (c.kind === 'linkSet' ? c.dev : c.kind))).toEqual(['eth0', 'eth1']);
    expect(parseScenario(doc('name: q', 'setup: ip netns add a'), 'q.yaml').setup).toHaveLength(1);
  });
});

describe('errors in the YAML', () => {
  it.each([
    [
      'malformed flow',
      doc('name: x', 'setup: [ip netns add a', 'steps: []'),
      's.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['unclosed quote', doc('name: "x', 'seed: 1'), 's.yaml:3:1: Missing closing "quote'],
    [
      'bad indentation',
      doc('setup:', '  - a', ' - b'),
      's.yaml:3:1: A block sequence may not be used as an implicit map key',
    ],
    ['duplicate key', doc('name: x', 'seed: 1', 'name: y'), 's.yaml:3:1: Map keys must be unique'],
    [
      'tab indentation',
      doc('name: x', 'setup:', '\t- ip netns add a'),
      's.yaml:3:1: Tabs are not allowed as indentation',
    ],
    [
      'two documents',
      doc('name: x', '---', 'name: y'),
      's.yaml:2:1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ],
    ['unknown tag', doc('name: !secret x'), 's.yaml:1:7: Unresolved tag: !secret'],
    ['unknown alias', doc('name: x', 'setup: [*cmds]'), "s.yaml:2:9: unknown alias '*cmds'"],
  ])('%s', (_, text, expected) => {
    expect(error(text)).toBe(expected);
  });
});

describe('errors in the schema', () => {
  it.each([
    ['empty file', '', 's.yaml:1:1: expected a mapping, got nothing'],
    ['not a mapping', doc('- a'), 's.yaml:1:1: expected a mapping, got a list'],
    ['missing name', doc('seed: 1'), "s.yaml:1:1: missing required field 'name'"],
    [
      'unknown top-level key',
      doc('name: x', 'stepz: []'),
      "s.yaml:2:1: unknown field 'stepz'; expected one of: name, description, seed, setup, cluster, listen, steps",
    ],
    ['wrong type', doc('name: x', 'seed: one'), "s.yaml:2:7: seed: expected an integer, got 'one'"],
    ['negative seed', doc('name: x', 'seed: -1'), 's.yaml:2:7: seed: must be at least 0, got number -1'],
    [
      'setup of a wrong type',
      doc('name: x', 'setup: 42'),
      's.yaml:2:8: setup: expected a list or a string, got number 42',
    ],
    [
      'non-string command',
      doc('name: x', 'setup:', '  - ip netns add a', '  - { ip: link }'),
      's.yaml:4:5: setup[1]: expected a string, got a mapping',
    ],
    [
      'listener port',
      doc('name: x', 'listen:', '  - { ns: b, proto: tcp, port: 70000 }'),
      's.yaml:3:32: listen[0].port: must be at most 65535, got number 70000',
    ],
    [
      'listener proto',
      doc('name: x', 'listen:', '  - { ns: b, proto: sctp, port: 7 }'),
      "s.yaml:3:21: listen[0].proto: invalid value 'sctp'; expected one of: tcp, udp",
    ],
    [
      'unknown key in a step',
      doc('name: x', 'steps:', '  - ping: { from: a, to: 10.0.0.2, tll: 3 }', '    expect: reachable'),
      "s.yaml:3:36: steps[0].ping: unknown field 'tll'; expected one of: from, src, to, count, ttl, size, df",
    ],
    [
      'typo inside a connect step',
      doc('name: x', 'steps:', '  - connect: { from: a, too: "10.0.0.2:80" }', '    expect: reachable'),
      "s.yaml:3:14: steps[0].connect: missing required field 'to'",
    ],
    [
      'step without an action',
      doc('name: x', 'steps:', '  - expect: reachable'),
      's.yaml:3:5: steps[0]: needs one of: ping, connect',
    ],
    [
      'step with two actions',
      doc(
        'name: x',
        'steps:',
        '  - ping: { from: a, to: 10.0.0.2 }',
        '    connect: { from: a, to: "10.0.0.2:80" }',
        '    expect: reachable',
      ),
      "s.yaml:4:5: steps[0]: unknown field 'connect'; expected one of: name, ping, expect",
    ],
    [
      'result a ping cannot have',
      doc('name: x', 'steps:', '  - ping: { from: a, to: 10.0.0.2 }', '    expect: { result: refused }'),
      "s.yaml:4:23: steps[0].expect.result: invalid value 'refused'; expected one of: reachable, unreachable, timeout",
    ],
    [
      'misspelt result',
      doc('name: x', 'steps:', '  - connect: { from: a, to: "10.0.0.2:80" }', '    expect: reachble'),
      "s.yaml:4:13: steps[0].expect: invalid value 'reachble'; expected one of: reachable, unreachable, refused, timeout",
    ],
    [
      'bad address',
      doc('name: x', 'steps:', '  - ping: { from: a, to: 10.0.0.256 }', '    expect: reachable'),
      "s.yaml:3:26: steps[0].ping.to: expected an IPv4 address like 10.0.0.2, got '10.0.0.256'",
    ],
    [
      'IPv6 destination',
      doc('name: x', 'steps:', '  - ping: { from: a, to: "fd00::2" }', '    expect: reachable'),
      's.yaml:3:26: steps[0].ping.to: IPv6 is not supported',
    ],
    [
      'endpoint without port',
      doc('name: x', 'steps:', '  - connect: { from: a, to: 10.0.0.2 }', '    expect: reachable'),
      "s.yaml:3:29: steps[0].connect.to: expected ADDRESS:PORT like 10.0.0.2:80 (port 1-65535), got '10.0.0.2'",
    ],
    [
      'IPv6 endpoint',
      doc('name: x', 'steps:', '  - connect: { from: a, to: "[fd00::2]:80" }', '    expect: reachable'),
      's.yaml:3:29: steps[0].connect.to: IPv6 is not supported',
    ],
    [
      'bad via hop',
      doc(
        'name: x',
        'steps:',
        '  - ping: { from: a, to: 10.0.0.2 }',
        '    expect: { result: reachable, via: [router] }',
      ),
      `s.yaml:4:40: steps[0].expect.via[0]: expected "<ns>:<dev>" like "router:eth1", got 'router'`,
    ],
    [
      'bad icmp name',
      doc(
        'name: x',
        'steps:',
        '  - ping: { from: a, to: 10.0.0.2 }',
        '    expect: { result: unreachable, icmp: ttl-exceeded }',
      ),
      "s.yaml:4:42: steps[0].expect.icmp: invalid value 'ttl-exceeded'; expected one of: net-unreachable, host-unreachable, protocol-unreachable, port-unreachable, frag-needed, source-route-failed, net-unknown, host-unknown, host-isolated, net-prohibited, host-prohibited, net-tos-unreachable, host-tos-unreachable, admin-prohibited, host-precedence-violation, precedence-cutoff, time-exceeded",
    ],
  ])('%s', (_, text, expected) => {
    expect(error(text)).toBe(expected);
  });

  it('reports the earliest of several problems', () => {
    expect(error(doc('name: x', 'steps:', '  - ping: { from: a, to: x }', '    expect: reachable', 'seed: z'))).toBe(
      "s.yaml:3:26: steps[0].ping.to: expected an IPv4 address like 10.0.0.2, got 'x'",
    );
    // A command error before a schema error wins, and the other way round.
    expect(error(doc('name: x', 'setup:', '  - ip foo', 'seed: z'))).toBe(
      "s.yaml:3:8: unknown object 'foo' for 'ip'; expected one of: address, route, neighbor, link, netns",
    );
    expect(error(doc('seed: z', 'name: x', 'setup:', '  - ip foo'))).toBe(
      "s.yaml:1:7: seed: expected an integer, got 'z'",
    );
  });

  it('rejects listeners Linux would not bind twice', () => {
    expect(
      error(
        doc(
          'name: x',
          'listen:',
          '  - { ns: b, proto: udp, port: 53 }',
          '  - { ns: b, proto: udp, port: 53, address: 10.0.0.2 }',
        ),
      ),
    ).toBe("s.yaml:4:5: listen[1]: namespace 'b' already listens on udp port 53 (listen[0])");
    expect(() =>
      parseScenario(
        doc(
          'name: x',
          'listen:',
          '  - { ns: b, proto: udp, port: 53, address: 10.0.0.1 }',
          '  - { ns: b, proto: udp, port: 53, address: 10.0.0.2 }',
        ),
        's.yaml',
      ),
    ).not.toThrow();
  });
});

// The same command mistakes, as list items and inside a literal block; the column is the offending word's.
const LIST = (cmd: string) => doc('name: x', 'setup:', '  - ip netns add a', `  - ${cmd}`);
const BLOCK = (cmd: string) => doc('name: x', 'setup: |', '  ip netns add a', '', `    ${cmd}`);

describe.each([
  ['list', LIST, 4, 5],
  ['block', BLOCK, 5, 5],
])('command errors in %s form', (_, wrap, line, col) => {
  it.each([
    ['unknown command', 'ifconfig eth0 up', 0, "unsupported command 'ifconfig'"],
    ['iptables', 'iptables -A FORWARD -j ACCEPT', 0, "unsupported command 'iptables'"],
    [
      'unknown option',
      'ip link set eth0 up qlen 5',
      20,
      "option 'qlen' is not supported in 'ip link set'; supported: up, down, name, address, mtu, netns, promisc, master, nomaster, dev",
    ],
    [
      'unknown keyword',
      'ip link sett eth0 up',
      8,
      "unknown command 'sett' for 'ip link'; expected one of: add, set, delete",
    ],
    [
      'invalid CIDR',
      'ip addr add 10.0.0.1/40 dev eth0',
      12,
      "invalid address '10.0.0.1/40' (expected an IPv4 address with optional /0-32)",
    ],
    [
      'bad MAC',
      'ip link set eth0 address 02:00:00:00:00',
      25,
      "invalid MAC address '02:00:00:00:00' (expected six hex octets like 02:42:ac:11:00:02)",
    ],
    ['IPv6 address', 'ip addr add fd00::1/64 dev eth0', 12, "IPv6 is not supported: 'fd00::1/64'"],
    ['IPv6 option', 'ip -6 route add default dev eth0', 3, 'IPv6 is not supported'],
    [
      'pipe',
      'echo 1 | tee /proc/sys/net/ipv4/ip_forward',
      7,
      "pipes ('|') are not supported: put one command per line (for '… | tee /proc/sys/…' use 'sysctl -w KEY=VALUE')",
    ],
  ])('%s', (_name, cmd, offset, message) => {
    expect(error(wrap(cmd))).toBe(`s.yaml:${line}:${col + offset}: ${message}`);
  });
});

describe('positions inside YAML scalars', () => {
  const bad = 'ip link set eth0 address zz';
  const where = (text: string) => {
    const e = failure(text);
    return [e.line, e.col];
  };

  it('follows quotes, escapes and folding to the offending word', () => {
    expect(where(doc('name: x', 'setup:', `  - "${bad}"`))).toEqual([3, 31]);
    expect(where(doc('name: x', 'setup:', `  - "ip\\tlink set \\"eth0\\" address zz"`))).toEqual([3, 36]);
    expect(where(doc('name: x', 'setup:', `  - 'ip link set ''eth0'' address zz'`))).toEqual([3, 35]);
    expect(where(doc('name: x', 'setup:', '  - ip link set', '    eth0 address zz'))).toEqual([4, 18]);
    expect(where(doc('name: x', 'setup:', '  - >-', '    ip link set', '    eth0 address zz'))).toEqual([5, 18]);
    // YAML folds a plain scalar's line break into a space, so the backslash escapes that space: the word
    // '\\ address' starts at the backslash.
    expect(where(doc('name: x', 'setup:', '  - ip link set eth0 \\', '    address zz'))).toEqual([3, 22]);
    expect(where(doc('name: x', 'setup: |-', '      ip link set eth0 \\', '        address \\', '        zz'))).toEqual(
      [5, 9],
    );
  });

  it('gives a code frame with a caret', () => {
    const e = failure(doc('name: x', 'setup:', `  - ${bad}`));
    expect(e.col).toBe(30);
    expect(e.detail).toBe(`3 |   - ${bad}\n  | ${' '.repeat(29)}^`);
  });

  it('rejects a folded setup string and several commands in one item', () => {
    expect(error(doc('name: x', 'setup: >', '  ip netns add a', '  ip netns add b'))).toBe(
      "s.yaml:2:8: setup: several lines need a literal block ('setup: |') so that each line stays one command",
    );
    expect(error(doc('name: x', 'setup:', '  - |', '    ip netns add a', '    ip netns add b'))).toBe(
      's.yaml:5:5: a list item holds one command; for several, use a literal block (setup: |)',
    );
    expect(error(doc('name: x', 'setup:', '  - "  # nothing"'))).toBe('s.yaml:3:5: empty command');
  });
});

describe('loadScenario', () => {
  it('reads a file and reports an unreadable one without a position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-scenario-'));
    try {
      const path = join(dir, 'ok.yaml');
      writeFileSync(path, EXAMPLE);
      expect(loadScenario(path).file).toBe(path);
      const missing = join(dir, 'missing.yaml');
      let err: unknown;
      try {
        loadScenario(missing);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScenarioError);
      expect(String(err)).toMatch(
        new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read scenario file: ENOENT`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
