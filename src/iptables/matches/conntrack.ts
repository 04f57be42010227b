// `-m conntrack` (xt_conntrack revision 3) and `-m state` (which iptables implements with the same kernel match):
// connection state (with the virtual SNAT/DNAT states from the entry's NAT status), protocol, original and reply
// addresses with masks, ports or port ranges, IPS_* status bits, direction and remaining lifetime, every option
// invertible except --ctdir. A packet without a conntrack entry only matches on --ctstate (INVALID/UNTRACKED).

import { type Arg, failAt } from '../args.js';
import type { ExtParser, MatchModule, OptionSpec, RuleEnv } from '../ext.js';
import type { CtEntry, CtState, Match, PacketCtx } from '../types.js';
import { ipStr, maskSuffix, parseAddrMask, parsePort, parseProtocol, parseUint } from '../values.js';

const STATE_BITS: Record<string, number> = {
  INVALID: 1,
  NEW: 1 << 3,
  RELATED: 1 << 2,
  ESTABLISHED: 1 << 1,
  UNTRACKED: 1 << 8,
  SNAT: 1 << 9,
  DNAT: 1 << 10,
};
/** print_state order. */
const STATE_ORDER = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

const STATUS_BITS: Record<string, number> = { NONE: 0, EXPECTED: 1, SEEN_REPLY: 2, ASSURED: 4, CONFIRMED: 8 };
const STATUS_ORDER = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED'];

function parseNames(at: Arg, table: Record<string, number>, what: string, allowed?: ReadonlySet<string>): number {
  let v = 0;
  for (const name of at.text.split(',')) {
    const key = name.toUpperCase();
    const bit = table[key];
    if (bit === undefined || (allowed !== undefined && !allowed.has(key))) failAt(at, `Bad ${what} "${name}"`);
    v |= bit;
  }
  return v;
}

function namesText(mask: number, table: Record<string, number>, order: readonly string[], none: string): string {
  const names = order.filter((n) => (mask & table[n]!) !== 0);
  return names.length ? names.join(',') : none;
}

interface AddrOpt {
  addr: number;
  mask: number;
  inv: boolean;
}
interface RangeOpt {
  lo: number;
  hi: number;
  inv: boolean;
}

export interface ConntrackSpec {
  state?: { mask: number; inv: boolean };
  proto?: { num: number; inv: boolean };
  origsrc?: AddrOpt;
  origdst?: AddrOpt;
  replsrc?: AddrOpt;
  repldst?: AddrOpt;
  origsrcport?: RangeOpt;
  origdstport?: RangeOpt;
  replsrcport?: RangeOpt;
  repldstport?: RangeOpt;
  status?: { mask: number; inv: boolean };
  expire?: RangeOpt;
  dir?: 'ORIGINAL' | 'REPLY';
}

/** The state bit of a packet (XT_CONNTRACK_STATE_BIT / UNTRACKED / INVALID). */
function stateBit(ctx: PacketCtx): number {
  const s: CtState = ctx.ctState;
  if (ctx.ct === null) return s === 'UNTRACKED' ? STATE_BITS.UNTRACKED! : STATE_BITS.INVALID!;
  return STATE_BITS[s] ?? STATE_BITS.INVALID!;
}

function addrOk(o: AddrOpt | undefined, a: number): boolean {
  return o === undefined || (((a ^ o.addr) & o.mask) === 0) !== o.inv;
}

function rangeOk(o: RangeOpt | undefined, v: number): boolean {
  return o === undefined || (v >= o.lo && v <= o.hi) !== o.inv;
}

export class ConntrackMatch implements Match {
  constructor(
    readonly name: 'conntrack' | 'state',
    readonly spec: ConntrackSpec,
  ) {}

  matches(ctx: PacketCtx): boolean {
    const s = this.spec;
    const ct: CtEntry | null = ctx.ct;
    if (s.state) {
      let bit = stateBit(ctx);
      if (ct) {
        if (ct.status.srcNat) bit |= STATE_BITS.SNAT!;
        if (ct.status.dstNat) bit |= STATE_BITS.DNAT!;
      }
      if (((s.state.mask & bit) !== 0) === s.state.inv) return false;
    }
    if (ct === null) return s.state !== undefined;
    if (s.dir !== undefined && s.dir !== ctx.ctDir) return false;
    if (s.proto && (ct.original.proto === s.proto.num) === s.proto.inv) return false;
    if (!addrOk(s.origsrc, ct.original.src) || !addrOk(s.origdst, ct.original.dst)) return false;
    if (!addrOk(s.replsrc, ct.reply.src) || !addrOk(s.repldst, ct.reply.dst)) return false;
    if (!rangeOk(s.origsrcport, ct.original.sport) || !rangeOk(s.origdstport, ct.original.dport)) return false;
    if (!rangeOk(s.replsrcport, ct.reply.sport) || !rangeOk(s.repldstport, ct.reply.dport)) return false;
    if (s.status) {
      const st = ct.status;
      const bits = (st.seenReply ? 2 : 0) | (st.assured ? 4 : 0) | (st.confirmed ? 8 : 0);
      if (((s.status.mask & bits) !== 0) === s.status.inv) return false;
    }
    if (s.expire) {
      const left = Math.max(0, Math.floor((ct.timeoutAt - ctx.env.now) / 1e9));
      if (!rangeOk(s.expire, left)) return false;
    }
    return true;
  }

  private render(numeric: boolean, listing: boolean): string {
    const s = this.spec;
    const parts: string[] = [];
    const opt = (inv: boolean, name: string, value: string): void => {
      const n = listing ? name : `--${name}`;
      parts.push(`${inv ? '! ' : ''}${n} ${value}`);
    };
    const addr = (o: AddrOpt): string =>
      !numeric && o.mask === 0 ? 'anywhere' : `${ipStr(o.addr)}${maskSuffix(o.mask)}`;
    const range = (o: RangeOpt): string => (o.lo === o.hi ? String(o.lo) : `${o.lo}:${o.hi}`);
    const stateName = this.name === 'state' ? 'state' : 'ctstate';
    if (s.state) opt(s.state.inv, stateName, namesText(s.state.mask, STATE_BITS, STATE_ORDER, 'none'));
    if (s.proto) opt(s.proto.inv, 'ctproto', String(s.proto.num));
    if (s.origsrc) opt(s.origsrc.inv, 'ctorigsrc', addr(s.origsrc));
    if (s.origdst) opt(s.origdst.inv, 'ctorigdst', addr(s.origdst));
    if (s.replsrc) opt(s.replsrc.inv, 'ctreplsrc', addr(s.replsrc));
    if (s.repldst) opt(s.repldst.inv, 'ctrepldst', addr(s.repldst));
    if (s.origsrcport) opt(s.origsrcport.inv, 'ctorigsrcport', range(s.origsrcport));
    if (s.origdstport) opt(s.origdstport.inv, 'ctorigdstport', range(s.origdstport));
    if (s.replsrcport) opt(s.replsrcport.inv, 'ctreplsrcport', range(s.replsrcport));
    if (s.repldstport) opt(s.repldstport.inv, 'ctrepldstport', range(s.repldstport));
    if (s.status) opt(s.status.inv, 'ctstatus', namesText(s.status.mask, STATUS_BITS, STATUS_ORDER, 'NONE'));
    if (s.expire) opt(s.expire.inv, 'ctexpire', range(s.expire));
    if (s.dir) opt(false, 'ctdir', s.dir);
    return parts.join(' ');
  }

  save(): string {
    return `-m ${this.name} ${this.render(true, false)}`;
  }

  print(numeric: boolean): string {
    return this.render(numeric, true);
  }
}

const CONNTRACK_OPTIONS: readonly OptionSpec[] = [
  { name: 'ctstate', args: 1, invert: true },
  { name: 'ctproto', args: 1, invert: true },
  { name: 'ctorigsrc', args: 1, invert: true },
  { name: 'ctorigdst', args: 1, invert: true },
  { name: 'ctreplsrc', args: 1, invert: true },
  { name: 'ctrepldst', args: 1, invert: true },
  { name: 'ctstatus', args: 1, invert: true },
  { name: 'ctexpire', args: 1, invert: true },
  { name: 'ctorigsrcport', args: 1, invert: true },
  { name: 'ctorigdstport', args: 1, invert: true },
  { name: 'ctreplsrcport', args: 1, invert: true },
  { name: 'ctrepldstport', args: 1, invert: true },
  { name: 'ctdir', args: 1 },
];

const STATE_NAMES_FOR_STATE = new Set(['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED']);

function parseRange(at: Arg, opt: string, port: boolean): { lo: number; hi: number } {
  const parts = at.text.split(':');
  if (parts.length > 2) failAt(at, `conntrack: Too many components for option "--${opt}" (max: 2)`);
  const one = (t: string): number => {
    if (port) return parsePort(at, t);
    const n = parseUint(t, 0, 0xffffffff);
    if (n === null) failAt(at, `conntrack: bad value for option "--${opt}", or out of range (0-4294967295).`);
    return n;
  };
  const lo = one(parts[0]!);
  const hi = parts.length === 2 ? one(parts[1]!) : lo;
  if (lo > hi) failAt(at, `conntrack: bad value for option "--${opt}": min > max`);
  return { lo, hi };
}

export const conntrackModule: MatchModule = {
  name: 'conntrack',
  options: CONNTRACK_OPTIONS,
  parser(_env: RuleEnv): ExtParser<Match> {
    const spec: ConntrackSpec = {};
    return {
      parse(opt, inv, values) {
        const v = values[0]!;
        switch (opt.name) {
          case 'ctstate':
            spec.state = { mask: parseNames(v, STATE_BITS, 'ctstate'), inv };
            break;
          case 'ctproto':
            spec.proto = { num: parseProtocol(v), inv };
            break;
          case 'ctorigsrc':
          case 'ctorigdst':
          case 'ctreplsrc':
          case 'ctrepldst': {
            const { addr, mask } = parseAddrMask(v, v.text);
            spec[opt.name.slice(2) as 'origsrc'] = { addr, mask, inv };
            break;
          }
          case 'ctorigsrcport':
          case 'ctorigdstport':
          case 'ctreplsrcport':
          case 'ctrepldstport':
            spec[opt.name.slice(2) as 'origsrcport'] = { ...parseRange(v, opt.name, true), inv };
            break;
          case 'ctstatus':
            spec.status = { mask: parseNames(v, STATUS_BITS, 'ctstatus'), inv };
            break;
          case 'ctexpire':
            spec.expire = { ...parseRange(v, opt.name, false), inv };
            break;
          case 'ctdir': {
            const d = v.text.toUpperCase();
            if (d !== 'ORIGINAL' && d !== 'REPLY') failAt(v, `Unknown --ctdir "${v.text}"`);
            spec.dir = d;
            break;
          }
        }
      },
      finish(_e, at) {
        if (Object.keys(spec).length === 0) failAt(at, 'conntrack: At least one option is required');
      },
      create() {
        return new ConntrackMatch('conntrack', spec);
      },
    };
  },
};

export const stateModule: MatchModule = {
  name: 'state',
  options: [{ name: 'state', args: 1, invert: true }],
  parser(_env: RuleEnv): ExtParser<Match> {
    let state: { mask: number; inv: boolean } | null = null;
    return {
      parse(_opt, inv, values) {
        state = { mask: parseNames(values[0]!, STATE_BITS, 'state', STATE_NAMES_FOR_STATE), inv };
      },
      finish(_e, at) {
        if (state === null) failAt(at, 'state: option "--state" must be specified');
      },
      create() {
        return new ConntrackMatch('state', state ? { state } : {});
      },
    };
  },
};
