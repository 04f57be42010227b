import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argsOf } from '../../src/iptables/args.js';
import { applyIptablesCommand, parseIptablesArgs } from '../../src/iptables/command.js';
import { IptablesError } from '../../src/iptables/errors.js';
import { NfacctStore } from '../../src/iptables/matches/nfacct.js';
import { applyRestore, parseRestore } from '../../src/iptables/restore.js';
import { formatSave } from '../../src/iptables/save.js';
import { NetfilterState } from '../../src/iptables/state.js';
import { fixture, fixtureText, shellWords } from './helpers.js';

const lines = fixture<{ cmd: string }[]>('rules.json').map((c) => shellWords(c.cmd));
const listingDoc = fixture<{ restore: string }>('listing.json').restore;
const kubeDoc = fixtureText('kube-proxy-save.txt').split('\n').slice(0, 400).join('\n');

const VOCAB = [
  '-A',
  '-I',
  '-D',
  '-R',
  '-C',
  '-N',
  '-X',
  '-F',
  '-Z',
  '-P',
  '-E',
  '-L',
  '-S',
  '-t',
  'nat',
  'raw',
  'mangle',
  'filter',
  'INPUT',
  'OUTPUT',
  'FORWARD',
  'PREROUTING',
  'POSTROUTING',
  'X',
  '1',
  '0',
  '-1',
  '!',
  '-s',
  '-d',
  '-i',
  '-o',
  '-p',
  'tcp',
  'udp',
  'icmp',
  'all',
  '-f',
  '-m',
  '-j',
  '-g',
  '-c',
  '--dport',
  '--sport',
  '--dports',
  'multiport',
  'comment',
  '--comment',
  'conntrack',
  '--ctstate',
  'NEW,ESTABLISHED',
  'statistic',
  '--mode',
  'random',
  'nth',
  '--probability',
  '0.5',
  '--every',
  '--packet',
  'recent',
  '--set',
  '--rcheck',
  '--name',
  '--seconds',
  'limit',
  '--limit',
  '5/min',
  'mark',
  '--mark',
  '0x4000/0x4000',
  'MARK',
  '--set-xmark',
  '--or-mark',
  'CONNMARK',
  '--save-mark',
  'DNAT',
  'SNAT',
  '--to-destination',
  '--to-source',
  '10.0.0.1:80',
  'MASQUERADE',
  '--to-ports',
  '1000-2000',
  'REDIRECT',
  'REJECT',
  '--reject-with',
  'tcp-reset',
  'LOG',
  '--log-prefix',
  'ACCEPT',
  'DROP',
  'RETURN',
  '10.0.0.0/8',
  '1.2.3.4',
  'eth+',
  '-n',
  '-v',
  '-x',
  '--line-numbers',
  '-w',
  '--tcp-flags',
  'SYN,ACK',
  'SYN',
  'addrtype',
  '--dst-type',
  'LOCAL',
  'physdev',
  '--physdev-in',
  'iprange',
  '--src-range',
  '1.1.1.1-1.1.1.9',
  'icmp',
  '--icmp-type',
  'echo-request',
  'mac',
  '--mac-source',
  '00:11:22:33:44:55',
  'length',
  '--length',
  '100:200',
  'nfacct',
  '--nfacct-name',
  'foo',
  'NOTRACK',
  'CT',
  '--notrack',
  'TRACE',
  '--',
  '-',
  '--=',
  '=',
  '-tnat',
  '-nvL',
  '--to',
  '""',
  ':',
  ',',
  '/32',
];

const nasty = fc.string({
  unit: fc.constantFrom('a', '0', ' ', '"', '\\', '\n', "'", '-', 't', '#', '/', ':', ',', '!', '+', '=', 'é'),
  maxLength: 8,
});

const word = fc.oneof(
  fc.constantFrom(...VOCAB),
  fc.string({ maxLength: 12 }),
  nasty,
  fc.constantFrom(...VOCAB).chain((w) => fc.string({ maxLength: 3 }).map((x) => w + x)),
);

function fresh(): NetfilterState {
  const nfacct = new NfacctStore();
  nfacct.add('foo');
  const s = new NetfilterState({ nfacct });
  for (const w of [
    ['-N', 'X'],
    ['-t', 'nat', '-N', 'X'],
    ['-A', 'X', '-j', 'ACCEPT'],
  ]) {
    applyIptablesCommand(s, parseIptablesArgs(argsOf(w)));
  }
  return s;
}

/** Runs a command; returns false on a clean refusal, throws anything else. */
function run(s: NetfilterState, words: readonly string[]): boolean {
  try {
    applyIptablesCommand(s, parseIptablesArgs(argsOf(words)));
    return true;
  } catch (e) {
    if (e instanceof IptablesError) return false;
    throw e;
  }
}

/**
 * A saved ruleset must load back to the same text. The one exception is iptables' own: iptables-restore refuses any
 * word that starts with a single `-` and holds a `t` (it takes it for -t), even a comment iptables-save printed.
 */
function roundTrips(s: NetfilterState): void {
  const text = formatSave(s, { counters: true });
  const again = new NetfilterState({ nfacct: s.nfacct });
  try {
    applyRestore(again, parseRestore(text, 'saved', 1, { counters: true }));
  } catch (e) {
    if (e instanceof IptablesError && e.message.startsWith('The -t option')) return;
    throw e;
  }
  expect(formatSave(again, { counters: true })).toBe(text);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), word }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), word }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate<T>(items: readonly T[], muts: readonly Mutation[], make: (w: string) => T): T[] {
  const out = [...items];
  for (const m of muts) {
    const i = out.length === 0 ? 0 : m.at % out.length;
    switch (m.kind) {
      case 'drop':
        out.splice(i, 1);
        break;
      case 'dup':
        if (out.length) out.splice(i, 0, out[i]!);
        break;
      case 'swap':
        if (out.length > 1) [out[i], out[(i + 1) % out.length]] = [out[(i + 1) % out.length]!, out[i]!];
        break;
      case 'replace':
        out[i] = make(m.word);
        break;
      case 'insert':
        out.splice(i, 0, make(m.word));
        break;
      case 'cut':
        out.length = i;
        break;
    }
  }
  return out;
}

describe('fuzzing the rule language', () => {
  it('random words give a result or a clean IptablesError', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 16 }), (words) => {
        const s = fresh();
        if (run(s, words)) roundTrips(s);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutated real rule lines give a result or a clean IptablesError, and accepted rules save and load back', () => {
    fc.assert(
      fc.property(fc.constantFrom(...lines), fc.array(mutation, { maxLength: 4 }), (line, muts) => {
        const s = fresh();
        if (
          run(
            s,
            mutate(line, muts, (w) => w),
          )
        )
          roundTrips(s);
      }),
      { numRuns: 1500 },
    );
  });

  it('every real rule line that iptables accepted saves and loads back unchanged', () => {
    for (const line of lines) {
      const s = fresh();
      if (run(s, line)) roundTrips(s);
    }
  });

  it('mutated and random restore documents give a result or a clean IptablesError', () => {
    const docs = [listingDoc, kubeDoc, '*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n'];
    const charMut = fc.record({
      at: fc.nat(),
      ch: fc.constantFrom('"', '\\', ' ', '\n', '[', ']', ':', '*', '#', '!', '-', 'x', '\t'),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...docs),
        fc.array(mutation, { maxLength: 5 }),
        fc.array(charMut, { maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        (doc, muts, chars, noflush, counters) => {
          let text = mutate(doc.split('\n'), muts, (w) => w).join('\n');
          for (const c of chars) {
            const i = text.length === 0 ? 0 : c.at % text.length;
            text = text.slice(0, i) + c.ch + text.slice(i + 1);
          }
          const s = fresh();
          try {
            applyRestore(s, parseRestore(text, 'doc', 1, { noflush, counters }));
          } catch (e) {
            if (!(e instanceof IptablesError)) throw e;
          }
          roundTrips(s);
        },
      ),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          applyRestore(fresh(), parseRestore(text, 'doc'));
        } catch (e) {
          if (!(e instanceof IptablesError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
