import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIptablesArgs } from '../../src/iptables/command.js';
import { IptablesError } from '../../src/iptables/errors.js';
import { splitRestoreLine } from '../../src/iptables/restore.js';
import { parseSavedRule } from '../../src/iptables/restore-fast.js';
import { specTexts } from '../../src/iptables/rule-spec.js';
import { kubeProxyRuleLines } from './helpers.js';

/** What the full command-line parser makes of `-A chain rest`: the rule's save texts and target offset in `rest`. */
function full(chain: string, rest: string): { texts: string[]; targetOff: number } | IptablesError {
  const line = `-A ${chain} ${rest}`;
  try {
    const words = splitRestoreLine(line, (i) => ({ file: 't', line: 1, col: i + 1 }), 1);
    const cmd = parseIptablesArgs(words, { file: 't', line: 1, col: 1 }, { restoreTable: 'filter' });
    if (cmd.cmd.op !== 'append') throw new Error('not an append');
    const spec = cmd.cmd.rule;
    const col = spec.target?.pos?.col;
    return { texts: specTexts(spec), targetOff: col === undefined ? -1 : col - 1 - (chain.length + 4) };
  } catch (e) {
    if (e instanceof IptablesError) return e;
    throw e;
  }
}

/** The fast reading must agree with the full parser whenever it answers. */
function agree(chain: string, rest: string): 'fast' | 'full' {
  const f = parseSavedRule(rest, chain);
  const g = full(chain, rest);
  if (f === null) return 'full';
  expect(g, `${chain} ${rest}`).not.toBeInstanceOf(IptablesError);
  const r = g as { texts: string[]; targetOff: number };
  expect(specTexts(f.spec), rest).toEqual(r.texts);
  expect(f.targetOff, rest).toBe(r.targetOff);
  return 'fast';
}

const corpus = kubeProxyRuleLines();

describe('saved-form rule lines read without getopt', () => {
  it('takes the fast reading for kube-proxy lines, with the same rules as the full parser', () => {
    expect(corpus.length).toBeGreaterThan(500);
    let fast = 0;
    for (const { chain, rest } of corpus) if (agree(chain, rest) === 'fast') fast++;
    // Every line kube-proxy and iptables-save write is in saved form.
    expect(fast).toBe(corpus.length);
  });

  it('leaves other spellings and every refusal to the full parser', () => {
    const cases: [string, string][] = [
      ['X', '-p tcp --dport 80 -j ACCEPT'], // implicit tcp match
      ['X', '-p tcp -m tcp --dp 80 -j ACCEPT'], // abbreviation
      ['X', '-jACCEPT'], // value inside the option word
      ['X', '--jump ACCEPT'], // built-in long option
      ['X', '-m comment --comment "a\\"b" -j ACCEPT'], // escaped quote
      ['X', '-m comment --comment x"y z" -j ACCEPT'], // quote inside a word
      ['X', '-t nat -j ACCEPT'],
      ['X', '-m tcp -p tcp --dport 99999 -j ACCEPT'], // refused
      ['X', '-m nosuch -j ACCEPT'],
      ['X', '! -m tcp -p tcp -j ACCEPT'],
      ['PREROUTING', '-o eth0 -j ACCEPT'],
      ['POSTROUTING', '-i eth0 -j ACCEPT'],
      ['X', '-s 10.0.0.1 !'],
      ['X', '-c 1 2 -j ACCEPT'],
    ];
    for (const [chain, rest] of cases) {
      expect(parseSavedRule(rest, chain), rest).toBeNull();
    }
  });

  it('agrees with the full parser on random word sequences', () => {
    const vocab = [
      '!',
      '-s',
      '-d',
      '-i',
      '-o',
      '-p',
      '-f',
      '-m',
      '-j',
      '-g',
      'tcp',
      'udp',
      'icmp',
      'comment',
      '--comment',
      '"a b"',
      'statistic',
      '--mode',
      'random',
      '--probability',
      '0.5',
      'multiport',
      '--dports',
      '--dport',
      '80',
      '10.0.0.1/32',
      '10.0.0.0/8,1.2.3.4',
      'eth0',
      'eth+',
      'ACCEPT',
      'DROP',
      'KUBE-MARK-MASQ',
      'DNAT',
      '--to-destination',
      '10.0.0.1:80',
      'mark',
      '--mark',
      '0x4000/0x4000',
      'recent',
      '--set',
      '--name',
      'conntrack',
      '--ctstate',
      'NEW',
      'REJECT',
      '--reject-with',
      'tcp-reset',
    ];
    // Whole options in random order and combination (often valid), with stray words mixed in.
    const phrases = [
      '-s 10.0.0.1/32',
      '! -s 10.0.0.0/8',
      '-d 10.0.0.0/8,1.2.3.4',
      '-i eth+',
      '-o eth0',
      '-p tcp',
      '-p udp',
      '! -p icmp',
      '-f',
      '-m tcp',
      '-m udp',
      '--dport 80',
      '! --sport 1:1024',
      '-m comment --comment "a b"',
      '-m multiport --dports 80,443',
      '-m statistic --mode random --probability 0.25',
      '-m mark --mark 0x4000/0x4000',
      '-m conntrack --ctstate NEW',
      '-m recent --set --name x',
      '-j ACCEPT',
      '-j KUBE-MARK-MASQ',
      '-g KUBE-SVC-X',
      '-j DNAT --to-destination 10.0.0.1:80',
      '-j REJECT --reject-with tcp-reset',
      '-j MARK --or-mark 0x4000',
    ];
    let fast = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('X', 'PREROUTING', 'POSTROUTING', 'INPUT'),
        fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...phrases) }, fc.constantFrom(...vocab)), {
          minLength: 1,
          maxLength: 7,
        }),
        (chain, ws) => {
          if (agree(chain, ws.join(' ')) === 'fast') fast++;
        },
      ),
      { numRuns: 3000 },
    );
    // The property must have exercised the fast reading, not only the fallback.
    expect(fast).toBeGreaterThan(300);
  });
});
