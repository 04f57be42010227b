// `-m multiport --sports|--dports|--ports LIST` (xt_multiport revision 1): up to 15 ports, a range `a:b` counting
// as two, for tcp, udp, udplite, sctp or dccp. As in libxt_multiport the rule's `-p` must come before the option.

import { type Arg, failAt } from '../args.js';
import { conflict, type ExtParser, type MatchModule, mustSpecify, type RuleEnv } from '../ext.js';
import { serviceName } from '../protocols.js';
import type { Match, PacketCtx } from '../types.js';
import { parsePort } from '../values.js';

const PORT_PROTOS = new Set([6, 17, 33, 132, 136]);
const MAX_PORTS = 15;

export type MultiportFlags = 'sports' | 'dports' | 'ports';

export interface PortItem {
  lo: number;
  hi: number;
}

function parseList(at: Arg, proto: number): PortItem[] {
  const items: PortItem[] = [];
  let slots = 0;
  for (const part of at.text.split(',')) {
    const c = part.indexOf(':');
    const lo = parsePort(at, c < 0 ? part : part.slice(0, c), proto);
    const hi = c < 0 ? lo : parsePort(at, part.slice(c + 1), proto);
    if (lo > hi) failAt(at, 'invalid portrange specified');
    slots += c < 0 ? 1 : 2;
    if (slots > MAX_PORTS) failAt(at, 'too many ports specified');
    items.push({ lo, hi });
  }
  return items;
}

export class MultiportMatch implements Match {
  readonly name = 'multiport';

  constructor(
    readonly flags: MultiportFlags,
    readonly ports: readonly PortItem[],
    readonly inv: boolean,
    readonly proto: number,
  ) {}

  matches(ctx: PacketCtx): boolean {
    if (ctx.fragment) return false;
    for (const p of this.ports) {
      const s = ctx.sport >= p.lo && ctx.sport <= p.hi;
      const d = ctx.dport >= p.lo && ctx.dport <= p.hi;
      const hit = this.flags === 'sports' ? s : this.flags === 'dports' ? d : s || d;
      if (hit) return !this.inv;
    }
    return this.inv;
  }

  private list(numeric: boolean): string {
    const name = (p: number): string => {
      const proto = this.proto === 6 ? 'tcp' : this.proto === 17 ? 'udp' : undefined;
      return (!numeric && proto && serviceName(p, proto)) || String(p);
    };
    return this.ports.map((p) => (p.lo === p.hi ? name(p.lo) : `${name(p.lo)}:${name(p.hi)}`)).join(',');
  }

  save(): string {
    return `-m multiport${this.inv ? ' !' : ''} --${this.flags} ${this.list(true)}`;
  }

  print(numeric: boolean): string {
    return `multiport ${this.flags} ${this.inv ? ' !' : ''}${this.list(numeric)}`;
  }
}

const LONG: Record<MultiportFlags, string> = {
  sports: 'source-ports',
  dports: 'destination-ports',
  ports: 'ports',
};

export const multiportModule: MatchModule = {
  name: 'multiport',
  options: [
    { name: 'sports', args: 1, invert: true, aliases: ['source-ports'] },
    { name: 'dports', args: 1, invert: true, aliases: ['destination-ports'] },
    { name: 'ports', args: 1, invert: true },
  ],
  parser(env: RuleEnv): ExtParser<Match> {
    let flags: MultiportFlags | null = null;
    let ports: PortItem[] = [];
    let inv = false;
    let proto = 0;
    return {
      parse(opt, i, values, tok) {
        const p = env.proto;
        if (p !== null && (p.inv || !PORT_PROTOS.has(p.num))) {
          failAt(tok, 'multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
        }
        if (p === null || p.num === 0) {
          failAt(tok, "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
        }
        const f = opt.name as MultiportFlags;
        if (flags !== null && flags !== f) conflict(tok, 'multiport', LONG[f], LONG[flags]);
        flags = f;
        proto = p.num;
        ports = parseList(values[0]!, p.num);
        inv = i;
      },
      finish(_e, at) {
        if (flags === null) mustSpecify(at, 'multiport', 'ports');
      },
      create() {
        return new MultiportMatch(flags ?? 'ports', ports, inv, proto);
      },
    };
  },
};
