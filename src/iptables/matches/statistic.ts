// `-m statistic` (xt_statistic): `--mode random --probability P` draws from the run's seeded PRNG; the kernel keeps
// P as a 31-bit fraction (lround(P * 2^31)) and iptables prints it back with %.11f, so 1/3 saves as
// 0.33333333349. `--mode nth --every N --packet P` counts packets per rule (the counter lives in the rule, as the
// kernel's master counter does). `!` before --probability or --every inverts the match.

import { failAt } from '../args.js';
import { conflict, type ExtParser, type MatchModule, type RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { parseUint } from '../values.js';

const SCALE = 0x80000000;

/** The 31-bit fraction the kernel stores for a probability (libxt_statistic's lround). */
export function probabilityToFraction(p: number): number {
  return Math.floor(p * SCALE + 0.5);
}

/** %.11f of the stored fraction, as iptables-save prints it. */
export function fractionText(f: number): string {
  return (f / SCALE).toFixed(11);
}

export class StatisticMatch implements Match {
  readonly name = 'statistic';
  /** Packets seen modulo `every` (nth mode), starting where --packet puts it. */
  private count: number;
  /** nth mode counts packets per rule; random mode keeps nothing. */
  readonly perRuleState: boolean;

  constructor(
    readonly mode: 'random' | 'nth',
    /** 31-bit fraction (random mode). */
    readonly probability: number,
    readonly every: number,
    readonly packet: number,
    readonly inv: boolean,
  ) {
    this.count = every - 1 - packet;
    this.perRuleState = mode === 'nth';
  }

  matches(ctx: PacketCtx): boolean {
    if (this.mode === 'random') {
      const draw = Math.floor(ctx.env.rng.float() * SCALE);
      return draw < this.probability !== this.inv;
    }
    this.count = this.count === this.every - 1 ? 0 : this.count + 1;
    return (this.count === 0) !== this.inv;
  }

  save(): string {
    const inv = this.inv ? ' !' : '';
    if (this.mode === 'random')
      return `-m statistic --mode random${inv} --probability ${fractionText(this.probability)}`;
    return `-m statistic --mode nth${inv} --every ${this.every} --packet ${this.packet}`;
  }

  print(): string {
    const inv = this.inv ? ' !' : '';
    if (this.mode === 'random') return `statistic mode random${inv} probability ${fractionText(this.probability)}`;
    return `statistic mode nth${inv} every ${this.every}${this.packet ? ` packet ${this.packet}` : ''}`;
  }
}

/**
 * Random-mode instances keep no state, so rules with the same probability share one (kube-proxy's KUBE-SVC-*
 * chains use the same few probabilities across thousands of Services).
 */
const randomShared = new Map<number, StatisticMatch>();

function randomMatch(probability: number, inv: boolean): StatisticMatch {
  const key = probability * 2 + (inv ? 1 : 0);
  let m = randomShared.get(key);
  if (m === undefined) {
    m = new StatisticMatch('random', probability, 1, 0, inv);
    if (randomShared.size >= 4096) randomShared.clear();
    randomShared.set(key, m);
  }
  return m;
}

const DECIMAL = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

export const statisticModule: MatchModule = {
  name: 'statistic',
  options: [
    { name: 'mode', args: 1 },
    { name: 'probability', args: 1, invert: true },
    { name: 'every', args: 1, invert: true },
    { name: 'packet', args: 1 },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let mode: 'random' | 'nth' | null = null;
    let probability: number | null = null;
    let every: number | null = null;
    let packet: number | null = null;
    let inv = false;
    return {
      parse(opt, i, values, tok) {
        const v = values[0]!;
        switch (opt.name) {
          case 'mode':
            if (v.text !== 'random' && v.text !== 'nth') failAt(v, `Bad mode "${v.text}"`);
            // The literal, not the word: a word is a slice of the whole document it came from and would keep it.
            mode = v.text === 'random' ? 'random' : 'nth';
            break;
          case 'probability': {
            if (every !== null) conflict(tok, 'statistic', 'probability', 'every');
            if (packet !== null) conflict(tok, 'statistic', 'probability', 'packet');
            const p = DECIMAL.test(v.text) ? Number(v.text) : Number.NaN;
            if (!(p >= 0 && p <= 1))
              failAt(v, 'statistic: bad value for option "--probability", or out of range (0-1).');
            probability = probabilityToFraction(p);
            inv ||= i;
            break;
          }
          case 'every': {
            if (probability !== null) conflict(tok, 'statistic', 'every', 'probability');
            const n = parseUint(v.text, 1, 0xffffffff);
            if (n === null) failAt(v, 'statistic: bad value for option "--every", or out of range (1-4294967295).');
            every = n;
            inv ||= i;
            break;
          }
          case 'packet': {
            if (probability !== null) conflict(tok, 'statistic', 'packet', 'probability');
            const n = parseUint(v.text, 0, 0xffffffff);
            if (n === null) failAt(v, 'statistic: bad value for option "--packet", or out of range (0-4294967295).');
            packet = n;
            break;
          }
        }
      },
      finish(_e, at) {
        if (mode === null) failAt(at, 'statistic: option "--mode" must be specified');
        if (every !== null && packet === null) failAt(at, 'statistic: option "--every" also requires "--packet".');
        if (probability !== null && mode !== 'random') failAt(at, '--probability can only be used in random mode');
        if (every !== null && mode !== 'nth') failAt(at, '--every can only be used in nth mode');
        if (packet !== null && mode !== 'nth') failAt(at, '--packet can only be used in nth mode');
        if (packet !== null && every === null) failAt(at, '--packet can only be used with --every');
        if (mode === 'random' && probability === null) {
          failAt(at, '--probability must be specified when using random mode');
        }
        if (mode === 'nth' && every === null) failAt(at, '--every must be specified when using nth mode');
        if (every !== null && packet !== null && packet > every - 1) {
          failAt(at, 'the --packet p must be 0 <= p <= n-1');
        }
      },
      create() {
        if (mode === 'random') return randomMatch(probability ?? 0, inv);
        return new StatisticMatch(mode!, probability ?? 0, every ?? 1, packet ?? 0, inv);
      },
    };
  },
};
