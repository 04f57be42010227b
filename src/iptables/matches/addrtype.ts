// `-m addrtype --src-type|--dst-type TYPES [--limit-iface-in|--limit-iface-out]` (xt_addrtype revision 1): the
// address type as the kernel's inet_addr_type decides it from the namespace's local routing table (local,
// broadcast, … routes; 0.0.0.0/8 and 255.255.255.255 are BROADCAST, 224.0.0.0/4 MULTICAST, anything else
// UNICAST). With --limit-iface-in/out only a local-table route through the packet's input/output device counts.

import { RT_TABLE_LOCAL } from '../../netns/fib.js';
import type { NfHook } from '../../netns/hooks.js';
import type { NetDev } from '../../netns/netdev.js';
import type { NetNs } from '../../netns/netns.js';
import { type Arg, failAt } from '../args.js';
import { conflict, type ExtParser, type MatchModule, type RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';

/** RTN_* order: the bit of a type is 1 << its RTN value. */
const TYPES = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];

const ROUTE_TYPE_RTN: Record<string, number> = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
};

function parseTypes(at: Arg): number {
  let mask = 0;
  for (const name of at.text.split(',')) {
    const i = TYPES.indexOf(name.toUpperCase());
    if (i < 0) failAt(at, `addrtype: bad type "${name}"`);
    mask |= 1 << i;
  }
  return mask;
}

function typesText(mask: number): string {
  return TYPES.filter((_, i) => (mask & (1 << i)) !== 0).join(',');
}

/** inet_dev_addr_type(): the RTN type of `addr`, considering only routes through `dev` when given. */
export function inetAddrType(ns: NetNs, addr: number, dev: NetDev | null): number {
  if (addr >>> 24 === 0 || addr >>> 0 === 0xffffffff) return 3;
  if (addr >>> 28 === 0xe) return 5;
  const r = ns.fib.lookupTable(RT_TABLE_LOCAL, addr);
  if (r === null) return 1;
  if (dev !== null && r.dev !== dev) return 1;
  return ROUTE_TYPE_RTN[r.type] ?? 1;
}

const IN_HOOKS: readonly NfHook[] = ['PREROUTING', 'INPUT', 'FORWARD'];
const OUT_HOOKS: readonly NfHook[] = ['FORWARD', 'OUTPUT', 'POSTROUTING'];

export class AddrtypeMatch implements Match {
  readonly name = 'addrtype';
  readonly hooks?: readonly NfHook[];

  constructor(
    readonly src: number,
    readonly srcInv: boolean,
    readonly dst: number,
    readonly dstInv: boolean,
    readonly limit: 'in' | 'out' | null,
  ) {
    if (limit === 'in') this.hooks = IN_HOOKS;
    else if (limit === 'out') this.hooks = OUT_HOOKS;
  }

  matches(ctx: PacketCtx): boolean {
    const dev = this.limit === 'in' ? ctx.inDev : this.limit === 'out' ? ctx.outDev : null;
    if (this.src !== 0) {
      const t = inetAddrType(ctx.ns, ctx.src, dev);
      if (((this.src & (1 << t)) !== 0) === this.srcInv) return false;
    }
    if (this.dst !== 0) {
      const t = inetAddrType(ctx.ns, ctx.dst, dev);
      if (((this.dst & (1 << t)) !== 0) === this.dstInv) return false;
    }
    return true;
  }

  save(): string {
    let s = '-m addrtype';
    if (this.src) s += `${this.srcInv ? ' !' : ''} --src-type ${typesText(this.src)}`;
    if (this.dst) s += `${this.dstInv ? ' !' : ''} --dst-type ${typesText(this.dst)}`;
    if (this.limit === 'in') s += ' --limit-iface-in';
    if (this.limit === 'out') s += ' --limit-iface-out';
    return s;
  }

  print(): string {
    let s = 'ADDRTYPE match';
    if (this.src) s += ` src-type ${this.srcInv ? '!' : ''}${typesText(this.src)}`;
    if (this.dst) s += ` dst-type ${this.dstInv ? '!' : ''}${typesText(this.dst)}`;
    if (this.limit === 'in') s += ' limit-in';
    if (this.limit === 'out') s += ' limit-out';
    return s;
  }
}

export const addrtypeModule: MatchModule = {
  name: 'addrtype',
  options: [
    { name: 'src-type', args: 1, invert: true },
    { name: 'dst-type', args: 1, invert: true },
    { name: 'limit-iface-in', args: 0 },
    { name: 'limit-iface-out', args: 0 },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let src = 0;
    let srcInv = false;
    let dst = 0;
    let dstInv = false;
    let limit: 'in' | 'out' | null = null;
    return {
      parse(opt, inv, values, tok) {
        switch (opt.name) {
          case 'src-type':
            src = parseTypes(values[0]!);
            srcInv = inv;
            break;
          case 'dst-type':
            dst = parseTypes(values[0]!);
            dstInv = inv;
            break;
          default: {
            const which = opt.name === 'limit-iface-in' ? 'in' : 'out';
            if (limit !== null && limit !== which) conflict(tok, 'addrtype', opt.name, `limit-iface-${limit}`);
            limit = which;
          }
        }
      },
      finish(_e, at) {
        if (src === 0 && dst === 0) failAt(at, 'addrtype: you must specify --src-type or --dst-type');
      },
      create() {
        return new AddrtypeMatch(src, srcInv, dst, dstInv, limit);
      },
    };
  },
};
