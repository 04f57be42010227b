// `-m mark --mark VALUE[/MASK]` (xt_mark) on the packet mark and `-m connmark --mark VALUE[/MASK]` (xt_connmark) on
// the connection's mark: (mark & mask) == value, invertible. A packet without a conntrack entry never matches
// connmark.

import { failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { markText, parseMarkMask } from '../values.js';

export class MarkMatch implements Match {
  constructor(
    readonly name: 'mark' | 'connmark',
    readonly mark: number,
    readonly mask: number,
    readonly inv: boolean,
  ) {}

  matches(ctx: PacketCtx): boolean {
    let v: number;
    if (this.name === 'mark') v = ctx.skb.mark;
    else if (ctx.ct !== null) v = ctx.ct.mark;
    else return false;
    return ((v & this.mask) >>> 0 === this.mark) !== this.inv;
  }

  save(): string {
    return `-m ${this.name}${this.inv ? ' !' : ''} --mark ${markText(this.mark, this.mask)}`;
  }

  print(): string {
    if (this.name === 'mark') return `mark match${this.inv ? ' !' : ''} ${markText(this.mark, this.mask)}`;
    return `connmark match ${this.inv ? '!' : ''} ${markText(this.mark, this.mask)}`;
  }
}

function markModule(name: 'mark' | 'connmark'): MatchModule {
  return {
    name,
    options: [{ name: 'mark', args: 1, invert: true }],
    parser(_env: RuleEnv): ExtParser<Match> {
      let value: { value: number; mask: number } | null = null;
      let inv = false;
      return {
        parse(_opt, i, values) {
          const v = values[0]!;
          value = parseMarkMask(v.text);
          if (value === null) failAt(v, `${name}: bad integer value for option "--mark", or out of range.`);
          inv = i;
        },
        finish(_e, at) {
          if (value === null) failAt(at, `${name}: option "--mark" must be specified`);
        },
        create() {
          const v = value!;
          return new MarkMatch(name, (v.value & v.mask) >>> 0, v.mask, inv);
        },
      };
    },
  };
}

export const markModuleDef = markModule('mark');
export const connmarkModuleDef = markModule('connmark');
