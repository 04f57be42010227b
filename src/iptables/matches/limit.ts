// `-m limit --limit N/UNIT --limit-burst B` (xt_limit): a token bucket per rule, refilled in virtual time. The
// rate is kept as the kernel keeps it, an average interval in 1/10000 s (3/hour by default, burst 5), and printed
// back the way libxt_limit does (5/min, 3/sec). The kernel counts credit in jiffies; here the bucket fills
// continuously in nanoseconds, so a refill lands at the exact instant rather than on the next tick.

import type { Nanos } from '../../sim/events.js';
import { failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { parseUint } from '../values.js';

const SCALE = 10000;
const DEFAULT_AVG = (SCALE * 3600) / 3;
const DEFAULT_BURST = 5;
const RATES: readonly [string, number][] = [
  ['day', SCALE * 86400],
  ['hour', SCALE * 3600],
  ['min', SCALE * 60],
  ['sec', SCALE],
];
const UNITS: readonly [string, number][] = [
  ['second', 1],
  ['minute', 60],
  ['hour', 3600],
  ['day', 86400],
];

/** print_rate(): the largest unit that divides the interval without too much loss. */
export function rateText(avg: number): string {
  let i = 1;
  for (; i < RATES.length; i++) {
    const mult = RATES[i]![1];
    if (avg > mult || Math.floor(mult / avg) < mult % avg) break;
  }
  const [name, mult] = RATES[i - 1]!;
  return `${Math.floor(mult / avg)}/${name}`;
}

export class LimitMatch implements Match {
  readonly name = 'limit';
  readonly perRuleState = true;
  private credit = 0;
  private prev: Nanos | null = null;

  constructor(
    /** Average interval between packets in 1/10000 s. */
    readonly avg: number,
    readonly burst: number,
  ) {}

  matches(ctx: PacketCtx): boolean {
    const cost = this.avg * 1e5;
    const cap = cost * this.burst;
    const now = ctx.env.now;
    if (this.prev === null) this.credit = cap;
    else this.credit = Math.min(cap, this.credit + (now - this.prev));
    this.prev = now;
    if (this.credit >= cost) {
      this.credit -= cost;
      return true;
    }
    return false;
  }

  save(): string {
    const burst = this.burst !== DEFAULT_BURST ? ` --limit-burst ${this.burst}` : '';
    return `-m limit --limit ${rateText(this.avg)}${burst}`;
  }

  print(): string {
    return `limit: avg ${rateText(this.avg)} burst ${this.burst}`;
  }
}

export const limitModule: MatchModule = {
  name: 'limit',
  options: [
    { name: 'limit', args: 1 },
    { name: 'limit-burst', args: 1 },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let avg = DEFAULT_AVG;
    let burst = DEFAULT_BURST;
    return {
      parse(opt, _inv, values) {
        const v = values[0]!;
        if (opt.name === 'limit-burst') {
          const n = parseUint(v.text, 0, 10000);
          if (n === null) failAt(v, 'limit: bad value for option "--limit-burst", or out of range (0-10000).');
          burst = n === 0 ? DEFAULT_BURST : n;
          return;
        }
        const slash = v.text.indexOf('/');
        const num = slash < 0 ? v.text : v.text.slice(0, slash);
        let mult = 1;
        if (slash >= 0) {
          const unit = v.text.slice(slash + 1).toLowerCase();
          const u = unit === '' ? undefined : UNITS.find(([name]) => name.startsWith(unit));
          if (u === undefined) failAt(v, `bad rate "${v.text}"'`);
          mult = u[1];
        }
        const r = /^[0-9]+$/.test(num) ? Number(num) : 0;
        if (r === 0) failAt(v, `bad rate "${v.text}"'`);
        const a = Math.floor((SCALE * mult) / r);
        if (a === 0) failAt(v, `Rate too fast "${v.text}"`);
        avg = a;
      },
      finish() {},
      create() {
        return new LimitMatch(avg, burst);
      },
    };
  },
};
