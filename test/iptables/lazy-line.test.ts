import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseIptablesArgs } from '../../src/iptables/command.js';
import { IptablesError } from '../../src/iptables/errors.js';
import {
  clearLineShapes,
  found,
  type LazyLine,
  lazyLine,
  lazyLineAt,
  lineShapeStats,
} from '../../src/iptables/lazy-line.js';
import { splitRestoreLine } from '../../src/iptables/restore.js';
import { templateOf } from '../../src/iptables/rule-spec.js';
import { factsOf } from '../../src/iptables/validate.js';
import { kubeProxyRuleLines } from './helpers.js';

/** What the full command-line parser says of `-A chain rest`: refused, or the rule's facts and target column. */
type Truth =
  | { ok: false }
  | {
      ok: true;
      /** Kept as text: one part, no per-rule state, no counters, no nfacct objects. */
      lazy: boolean;
      facts: ReturnType<typeof factsOf>;
      targetCol: number;
    };

function truth(chain: string, rest: string): Truth {
  const line = `-A ${chain} ${rest}`;
  try {
    const words = splitRestoreLine(line, (i) => ({ file: 't', line: 1, col: i + 1 }), 1);
    const cmd = parseIptablesArgs(words, { file: 't', line: 1, col: 1 }, { restoreTable: 'nat' });
    if (cmd.cmd.op !== 'append') throw new Error('not an append');
    const t = templateOf(cmd.cmd.rule);
    const facts = factsOf(t);
    const lazy = t.more.length === 0 && t.perRule === null && t.counters === null && facts.nfacct.length === 0;
    return { ok: true, lazy, facts, targetCol: cmd.cmd.rule.target?.pos?.col ?? -1 };
  } catch (e) {
    if (e instanceof IptablesError) return { ok: false };
    throw e;
  }
}

/** A line kept as text must be one the full parser accepts, with the same facts. */
function agree(chain: string, rest: string): LazyLine | null {
  const got = lazyLine(rest, chain);
  // The same line read where it stands in a document (offsets from its start).
  const doc = `*nat\n-A ${chain} ${rest}\n-A ${chain} -j RETURN\n`;
  const start = 9 + chain.length;
  const there = lazyLineAt(doc, start, start + rest.length, chain) ? { ...found } : null;
  expect(there, rest).toEqual(got);
  const want = truth(chain, rest);
  if (got === null) return null;
  expect(want.ok, `${chain} ${rest}`).toBe(true);
  if (!want.ok) return got;
  expect(want.lazy, rest).toBe(true);
  const { jumpTo, ...kind } = want.facts;
  expect({ ...got.kind }, rest).toEqual(kind);
  expect(got.jumpOff < 0 ? undefined : rest.slice(got.jumpOff, got.jumpOff + got.jumpLen), rest).toBe(jumpTo);
  expect(got.targetOff < 0 ? -1 : got.targetOff + chain.length + 5, rest).toBe(want.targetCol);
  return got;
}

const corpus = kubeProxyRuleLines();

// Each option's value drawn from values of its class and from values outside it (refused or read otherwise).
const addr = ['10.0.0.1', '10.1.2.3/32', '10.0.0.0/8', '0.0.0.0/0', '10.0.0.0/0', '010.0.0.1', '10.0.0.256'];
const addrMore = ['10.0.0.1/33', '10.0.0.1/08', 'host', '10.0.0.1,10.0.0.2', '10.0.0.1/255.0.0.0', '"10.0.0.1"'];
const port = ['80', '1', '65535', '0', '65536', '080', 'http', '1:1024', '"443"'];
const chain = ['KUBE-SEP-X', 'KUBE-MARK-MASQ', 'A', 'DNAT', 'ACCEPT', 'RETURN', 'MASQUERADE', 'MARK', 'QUEUE'];
const chainMore = ['A'.repeat(28), 'A'.repeat(29), '"A B"', '"KUBE-Q"', 'LOG', 'mark'];
const to = ['10.0.0.1', '10.0.0.1:80', '10.0.0.1:0', '10.0.0.1:80-90', '10.0.0.1-10.0.0.2', '10.0.0.1:65536'];
const comment = ['x', '"a b"', '"-t"', '-tx', '""', '"--table"', '"a"b'];
const options = fc.constantFrom(
  ['-s', addr.concat(addrMore)],
  ['! -s', addr.concat(addrMore)],
  ['-d', addr.concat(addrMore)],
  ['-m tcp -p tcp --dport', port],
  ['-p tcp -m tcp ! --sport', port],
  ['-m udp --dport', port],
  ['-m comment --comment', comment],
  ['-j', chain.concat(chainMore)],
  ['-g', chain.concat(chainMore)],
  ['-m tcp -p tcp -j DNAT --to-destination', to],
  ['-j DNAT --to-destination', to],
  ['-m statistic --mode random --probability', ['0.5', '0.1000000000', '2', 'x']],
  ['-m mark --mark', ['0x4000/0x4000', '-s']],
  // A classed option's word read as another option's value: the word after it is no value of its.
  ['-j LOG --log-prefix -j', ['--log-level 4', '--log-levelx 4', '--log-level 9', '-s 10.0.0.1']],
  ['-j LOG --log-prefix -s', ['--log-level 4', '10.0.0.1 --log-level 4', '10.0.0.300']],
);
const phrase = options.chain(([opt, values]) => fc.constantFrom(...(values as string[])).map((v) => `${opt} ${v}`));

describe('rule lines kept as text, read once per shape', () => {
  beforeEach(() => clearLineShapes());

  it('keeps every kube-proxy line of a user chain as text, with the facts the full parser gives', () => {
    let kept = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const { chain, rest } of corpus) {
        const want = truth(chain, rest);
        const got = agree(chain, rest);
        if (got !== null) kept++;
        else expect(want.ok && want.lazy, `${chain} ${rest}`).toBe(false);
      }
    }
    expect(kept).toBeGreaterThan(500);
  });

  it('never keeps a line the full parser refuses, whatever shape was learnt before', () => {
    let kept = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('KUBE-SVC-X', 'X', 'PREROUTING', 'POSTROUTING', 'OUTPUT'),
        fc.array(phrase, { minLength: 1, maxLength: 4 }),
        (c, ps) => {
          if (agree(c, ps.join(' ')) !== null) kept++;
        },
      ),
      { numRuns: 6000 },
    );
    // Lines of shapes seen before were answered without a parse: the property exercised them.
    expect(kept).toBeGreaterThan(1000);
  });

  it('reads a quoted value as its characters and keeps a quoted jump name exact', () => {
    const got = agree('X', '-m comment --comment "a b" -j "KUBE-Q"');
    expect(got).not.toBeNull();
    const again = agree('X', '-m comment --comment "c d e" -j "KUBE-R"');
    expect(again).not.toBeNull();
    // A quoted value may be followed by a word without a space between (the closing quote ends the word).
    expect(agree('X', '-m comment --comment "c"-j KUBE-R')).not.toBeNull();
  });

  it('matches runs of lines against the shape expected next exactly as it reads them word by word', () => {
    const before = { ...lineShapeStats };
    let kept = 0;
    fc.assert(
      fc.property(
        // A few line structures, each an option list whose values vary from line to line, repeated in order.
        fc.array(fc.array(options, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        fc.constantFrom('KUBE-SEP-X', 'POSTROUTING'),
        (structures, picks, chain) => {
          clearLineShapes();
          picks.forEach((p, i) => {
            const opts = structures[i % structures.length]!;
            const words = opts.map(([opt, values], k) => {
              const vs = values as string[];
              // Mostly one value of the class seen first, sometimes any other.
              const v = (p >> k) % 5 === 0 ? vs[(p >> (k + 3)) % vs.length]! : vs[k % 2]!;
              return `${opt} ${v}`;
            });
            if (agree(chain, words.join(' ')) !== null) kept++;
          });
        },
      ),
      { numRuns: 500 },
    );
    expect(kept).toBeGreaterThan(2000);
    // Most of those lines were matched without being read word by word.
    expect(lineShapeStats.matched - before.matched).toBeGreaterThan(1000);
  });
});
