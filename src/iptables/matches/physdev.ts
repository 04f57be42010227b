// `-m physdev` (xt_physdev): the bridge ports a bridged packet came in on or goes out of (br_netfilter's physindev
// and physoutdev), with `+` wildcards, and whether it is bridged at all. A packet that never crossed a bridge only
// matches inverted options, as in the kernel. --physdev-out and --physdev-is-out cannot be used in OUTPUT unless the
// rule also says --physdev-is-bridged (the output port is not known there yet).

import type { NfHook } from '../../netns/hooks.js';
import { failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { IfaceSpec, Match, PacketCtx } from '../types.js';
import { ifaceText, parseIface } from '../values.js';

const NO_OUTPUT: readonly NfHook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'POSTROUTING'];

export function ifaceMatches(spec: IfaceSpec, name: string): boolean {
  return spec.wildcard ? name.startsWith(spec.name) : name === spec.name;
}

interface Flag {
  inv: boolean;
}

export class PhysdevMatch implements Match {
  readonly name = 'physdev';
  readonly hooks?: readonly NfHook[];

  constructor(
    readonly physIn: IfaceSpec | null,
    readonly physOut: IfaceSpec | null,
    readonly isIn: Flag | null,
    readonly isOut: Flag | null,
    readonly isBridged: Flag | null,
  ) {
    if ((physOut !== null || isOut !== null) && (isBridged === null || isBridged.inv)) this.hooks = NO_OUTPUT;
  }

  matches(ctx: PacketCtx): boolean {
    const inDev = ctx.physIn?.name ?? null;
    const outDev = ctx.physOut?.name ?? null;
    if (!ctx.bridged && inDev === null && outDev === null) {
      for (const f of [this.isBridged, this.isIn, this.isOut, this.physIn, this.physOut]) {
        if (f !== null && !f.inv) return false;
      }
      return true;
    }
    if (this.isBridged && (outDev !== null) === this.isBridged.inv) return false;
    if (this.isIn && (inDev !== null) === this.isIn.inv) return false;
    if (this.isOut && (outDev !== null) === this.isOut.inv) return false;
    if (this.physIn && inDev !== null && ifaceMatches(this.physIn, inDev) === this.physIn.inv) return false;
    if (this.physOut && outDev !== null) return ifaceMatches(this.physOut, outDev) !== this.physOut.inv;
    return true;
  }

  private text(): string {
    let s = '';
    if (this.physIn) s += `${this.physIn.inv ? ' !' : ''} --physdev-in ${ifaceText(this.physIn)}`;
    if (this.physOut) s += `${this.physOut.inv ? ' !' : ''} --physdev-out ${ifaceText(this.physOut)}`;
    if (this.isIn) s += `${this.isIn.inv ? ' !' : ''} --physdev-is-in`;
    if (this.isOut) s += `${this.isOut.inv ? ' !' : ''} --physdev-is-out`;
    if (this.isBridged) s += `${this.isBridged.inv ? ' !' : ''} --physdev-is-bridged`;
    return s;
  }

  save(): string {
    return `-m physdev${this.text()}`;
  }

  print(): string {
    return `PHYSDEV match${this.text()}`;
  }
}

export const physdevModule: MatchModule = {
  name: 'physdev',
  options: [
    { name: 'physdev-in', args: 1, invert: true },
    { name: 'physdev-out', args: 1, invert: true },
    { name: 'physdev-is-in', args: 0, invert: true },
    { name: 'physdev-is-out', args: 0, invert: true },
    { name: 'physdev-is-bridged', args: 0, invert: true },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let physIn: IfaceSpec | null = null;
    let physOut: IfaceSpec | null = null;
    let isIn: Flag | null = null;
    let isOut: Flag | null = null;
    let isBridged: Flag | null = null;
    return {
      parse(opt, inv, values) {
        switch (opt.name) {
          case 'physdev-in':
            physIn = parseIface(values[0]!, inv);
            break;
          case 'physdev-out':
            physOut = parseIface(values[0]!, inv);
            break;
          case 'physdev-is-in':
            isIn = { inv };
            break;
          case 'physdev-is-out':
            isOut = { inv };
            break;
          case 'physdev-is-bridged':
            isBridged = { inv };
            break;
        }
      },
      finish(_e, at) {
        if (!physIn && !physOut && !isIn && !isOut && !isBridged) failAt(at, 'PHYSDEV: no physdev option specified');
      },
      create() {
        return new PhysdevMatch(physIn, physOut, isIn, isOut, isBridged);
      },
    };
  },
};
