import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseCommand } from '../../src/scenario/commands/parse.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { parseScenario } from '../../src/scenario/loader.js';

const LINES = [
  'ip netns add a',
  'ip netns exec a ip link set eth0 up',
  'ip -n a addr add 10.0.0.1/24 dev eth0 brd +',
  'ip link add veth0 type veth peer name veth1 netns b',
  'ip link add br0 type bridge stp_state 1 ageing_time 30000',
  'ip link set veth0 master br0 mtu 1400 up',
  'ip route add default via 10.0.0.1 dev eth0 metric 10 table 100',
  'ip route add blackhole 10.3.0.0/16',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud stale',
  'bridge fdb add 02:42:ac:11:00:02 dev vxlan0 dst 192.168.1.2 self permanent vni 1',
  'bridge link set dev veth0 hairpin on',
  'sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0',
  'echo 1 > /proc/sys/net/ipv4/ip_forward',
  `ip link set "eth0" up # comment`,
];

const WORDS = [
  'ip',
  '-n',
  '-6',
  'netns',
  'exec',
  'link',
  'add',
  'set',
  'type',
  'veth',
  'peer',
  'name',
  'bridge',
  'dummy',
  'addr',
  'route',
  'neigh',
  'fdb',
  'dev',
  'via',
  'default',
  'up',
  '10.0.0.1/24',
  'fd00::1/64',
  '02:00:00:00:00:01',
  '>',
  '|',
  ';',
  '$X',
  '"',
  "'",
  '\\',
  '#',
  'sysctl',
  'echo',
  'sudo',
  'iptables',
  '',
];

const SPECIALS = ' \t\n\r"\'\\#$`|;&<>(){}[]:-=/.,*!%@?~\u00e9\u2028\ud83d\ude00';

/** Random edits of a string: insertions of special characters, deletions, and word swaps. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: fc.constantFrom(...SPECIALS.split('')) }),
    fc.record({ kind: fc.constant('word' as const), at: fc.nat(), s: fc.constantFrom(...WORDS) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  );
  return fc.tuple(base, fc.array(edit, { maxLength: 6 })).map(([text, edits]) => {
    let s = text;
    for (const e of edits) {
      const at = s.length === 0 ? 0 : e.at % (s.length + 1);
      if (e.kind === 'delete') s = s.slice(0, at) + s.slice(at + e.n);
      else s = s.slice(0, at) + (e.kind === 'word' ? ` ${e.s} ` : e.s) + s.slice(at);
    }
    return s;
  });
}

function outcome(run: () => unknown, text: string): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const lines = text.split(/\r\n|\r|\n|\u2028|\u2029/).length;
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.line).toBeLessThanOrEqual(lines + 1);
    expect(e.col).toBeGreaterThanOrEqual(1);
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.toString()).toMatch(/^f\.yaml:\d+:\d+: /);
  }
}

const commandText = fc.oneof(
  mutated(fc.constantFrom(...LINES)),
  fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((w) => w.join(' ')),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('fuzz: commands', () => {
  it('yield a command or a ScenarioError', () => {
    fc.assert(
      fc.property(commandText, (text) => outcome(() => parseCommand(text, 'f.yaml'), text)),
      { numRuns: 3000 },
    );
  });
});

const EXAMPLE = [
  'name: pods on one bridge',
  'description: |',
  '  free text',
  'seed: 1',
  'setup:',
  '  - ip netns add a',
  "  - 'ip link add br0 type bridge'",
  '  - "ip -n a addr add 10.0.0.1/24 dev eth0"',
  'listen:',
  '  - { ns: b, proto: tcp, port: 80, reply: "HTTP/1.0 200 OK\\r\\n\\r\\nhello" }',
  'steps:',
  '  - ping: { from: a, to: 10.0.0.2, count: 1, ttl: 64, size: 56 }',
  '    expect: reachable',
  '  - connect: { from: a, to: "10.0.0.2:80", proto: tcp, payload: "GET /" }',
  '    expect:',
  '      result: reachable',
  '      via: [ "router:eth1", "b:eth0" ]',
  '',
].join('\n');

const BLOCK = [
  'name: block',
  'setup: |',
  '  ip netns add a   # comment',
  '  ip link add veth0 type veth \\',
  '    peer name veth1 netns a',
  '',
  '  echo 1 > /proc/sys/net/ipv4/ip_forward',
  'steps: []',
  '',
].join('\n');

/** Line-level edits: drop, duplicate, re-indent or swap lines. */
function lineMutated(base: string): fc.Arbitrary<string> {
  const edit = fc.record({
    op: fc.integer({ min: 0, max: 3 }),
    a: fc.nat(),
    b: fc.nat(),
    indent: fc.integer({ min: 0, max: 6 }),
  });
  return fc.array(edit, { maxLength: 4 }).map((edits) => {
    const lines = base.split('\n');
    for (const e of edits) {
      const i = e.a % lines.length;
      const j = e.b % lines.length;
      if (e.op === 0) lines.splice(i, 1);
      else if (e.op === 1) lines.splice(i, 0, lines[j]!);
      else if (e.op === 2) lines[i] = ' '.repeat(e.indent) + lines[i]!.trimStart();
      else [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      if (lines.length === 0) lines.push('');
    }
    return lines.join('\n');
  });
}

// Documents of roughly the right shape with random values, written by the yaml library in varied styles.
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...LINES),
);
const shaped = fc
  .record(
    {
      name: scalar,
      seed: scalar,
      setup: fc.oneof(fc.array(fc.oneof(mutated(fc.constantFrom(...LINES)), scalar), { maxLength: 4 }), scalar),
      listen: fc.array(fc.dictionary(fc.constantFrom('ns', 'proto', 'port', 'reply', 'address', 'x'), scalar), {
        maxLength: 2,
      }),
      steps: fc.array(
        fc.record(
          {
            ping: fc.dictionary(fc.constantFrom('from', 'to', 'src', 'count', 'ttl', 'size'), scalar),
            connect: fc.dictionary(fc.constantFrom('from', 'to', 'proto', 'payload'), scalar),
            expect: fc.oneof(
              scalar,
              fc.dictionary(fc.constantFrom('result', 'icmp', 'via', 'drop', 'replyTtl'), scalar),
            ),
            name: scalar,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  )
  .chain((obj) =>
    fc.record({ flow: fc.integer({ min: 0, max: 3 }), quote: fc.boolean() }).map(({ flow, quote }) =>
      stringify(obj, {
        flowCollectionPadding: true,
        defaultStringType: quote ? 'QUOTE_DOUBLE' : 'PLAIN',
        collectionStyle: flow === 0 ? 'flow' : 'any',
      }),
    ),
  );

describe('fuzz: scenario documents', () => {
  it('yield a Scenario or a ScenarioError', () => {
    const docs = fc.oneof(
      mutated(fc.constantFrom(EXAMPLE, BLOCK)),
      fc.constantFrom(EXAMPLE, BLOCK).chain(lineMutated),
      shaped,
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    fc.assert(
      fc.property(docs, (text) => outcome(() => parseScenario(text, 'f.yaml'), text)),
      { numRuns: 3000 },
    );
  });
});
