// `-m tcp` (xt_tcpudp): source and destination port ranges, `--tcp-flags MASK COMP` / `--syn`, `--tcp-option N`,
// each invertible. Loaded implicitly by `-p tcp --dport …`. Like the kernel it never matches a non-first fragment.
// The port fields are public so that a rule index can pick out exact-port rules.

import { type Arg, failAt } from '../args.js';
import type { ExtParser, MatchModule, OptionSpec, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { parsePortRange, parseUint } from '../values.js';
import { ANY_PORT, type PortRange, portInRange, printPorts, savePorts } from './ports.js';

const FLAG_NAMES: readonly [string, number][] = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ALL', 0x3f],
  ['NONE', 0],
];

function parseFlags(at: Arg): number {
  let v = 0;
  for (const name of at.text.split(',')) {
    const f = FLAG_NAMES.find(([n]) => n.toLowerCase() === name.toLowerCase());
    if (f === undefined) failAt(at, `Unknown TCP flag \`${name}'`);
    v |= f[1];
  }
  return v;
}

/** print_tcpf: names in bit order, `NONE` for zero. */
export function tcpFlagsText(flags: number): string {
  const names: string[] = [];
  let rest = flags & 0xff;
  while (rest) {
    const f = FLAG_NAMES.find(([, bit]) => (rest & bit) !== 0)!;
    names.push(f[0]);
    rest &= ~f[1];
  }
  return names.length ? names.join(',') : 'NONE';
}

function hex2(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Whether the TCP header at `th` carries option `kind` (tcp_find_option). */
function hasTcpOption(b: Uint8Array, th: number, end: number, kind: number): boolean {
  const doff = (b[th + 12]! >> 4) * 4;
  let i = th + 20;
  const stop = Math.min(th + doff, end);
  while (i < stop) {
    const k = b[i]!;
    if (k === kind) return true;
    if (k === 0) return false;
    if (k === 1) {
      i++;
      continue;
    }
    const len = b[i + 1] ?? 0;
    if (len < 2) return false;
    i += len;
  }
  return false;
}

export class TcpMatch implements Match {
  readonly name = 'tcp';
  /** The destination port when the rule names exactly one (null for a range or none). */
  readonly dport: number | null;
  readonly dportInv: boolean;
  readonly sport: number | null;
  readonly sportInv: boolean;

  constructor(
    readonly spts: PortRange,
    readonly dpts: PortRange,
    readonly flagMask: number,
    readonly flagCmp: number,
    readonly flagsInv: boolean,
    readonly option: number,
    readonly optionInv: boolean,
  ) {
    this.dport = dpts.lo === dpts.hi ? dpts.lo : null;
    this.dportInv = dpts.inv;
    this.sport = spts.lo === spts.hi ? spts.lo : null;
    this.sportInv = spts.inv;
  }

  matches(ctx: PacketCtx): boolean {
    if (ctx.fragment || ctx.proto !== 6) return false;
    if (!portInRange(this.spts, ctx.sport) || !portInRange(this.dpts, ctx.dport)) return false;
    if (((ctx.tcpFlags & this.flagMask) === this.flagCmp) === this.flagsInv) return false;
    if (this.option !== 0 || this.optionInv) {
      const skb = ctx.skb;
      const th = skb.nh + (skb.buf[skb.nh]! & 0x0f) * 4;
      if (hasTcpOption(skb.buf, th, skb.end, this.option) === this.optionInv) return false;
    }
    return true;
  }

  save(): string {
    let s = `-m tcp${savePorts('sport', this.spts)}${savePorts('dport', this.dpts)}`;
    if (this.option !== 0 || this.optionInv) s += `${this.optionInv ? ' !' : ''} --tcp-option ${this.option}`;
    if (this.flagMask !== 0 || this.flagsInv) {
      s += `${this.flagsInv ? ' !' : ''} --tcp-flags ${tcpFlagsText(this.flagMask)} ${tcpFlagsText(this.flagCmp)}`;
    }
    return s;
  }

  print(numeric: boolean): string {
    let s = `tcp${printPorts('spt', this.spts, 'tcp', numeric)}${printPorts('dpt', this.dpts, 'tcp', numeric)}`;
    if (this.option !== 0 || this.optionInv) s += ` option=${this.optionInv ? '!' : ''}${this.option}`;
    if (this.flagMask !== 0 || this.flagsInv) {
      const f = numeric
        ? `${hex2(this.flagMask)}/${hex2(this.flagCmp)}`
        : `${tcpFlagsText(this.flagMask)}/${tcpFlagsText(this.flagCmp)}`;
      s += ` flags:${this.flagsInv ? '!' : ''}${f}`;
    }
    return s;
  }
}

const OPTIONS: readonly OptionSpec[] = [
  { name: 'sport', args: 1, invert: true, aliases: ['source-port'] },
  { name: 'dport', args: 1, invert: true, aliases: ['destination-port'] },
  { name: 'syn', args: 0, invert: true },
  { name: 'tcp-flags', args: 2, invert: true },
  { name: 'tcp-option', args: 1, invert: true },
];

/** The check every tcp/udp-style match shares: the rule must say `-p NAME`, not inverted. */
export function requireProto(env: RuleEnv, at: Arg, num: number, message: string): void {
  if (env.proto === null || env.proto.num !== num || env.proto.inv) failAt(at, message);
}

let plainTcp: TcpMatch | undefined;

export const tcpModule: MatchModule = {
  name: 'tcp',
  options: OPTIONS,
  parser(_env: RuleEnv): ExtParser<Match> {
    let spts = ANY_PORT;
    let dpts = ANY_PORT;
    let flags: { mask: number; cmp: number; inv: boolean; syn: boolean } | null = null;
    let option = 0;
    let optionInv = false;
    return {
      parse(opt, inv, values, tok) {
        const v = values[0]!;
        switch (opt.name) {
          case 'sport': {
            const [lo, hi] = parsePortRange(v, 6);
            spts = { lo, hi, inv };
            break;
          }
          case 'dport': {
            const [lo, hi] = parsePortRange(v, 6);
            dpts = { lo, hi, inv };
            break;
          }
          case 'syn':
          case 'tcp-flags':
            if (flags !== null) failAt(tok, "Only one of `--syn' or `--tcp-flags'  allowed");
            flags =
              opt.name === 'syn'
                ? { mask: 0x17, cmp: 0x02, inv, syn: true }
                : { mask: parseFlags(v), cmp: parseFlags(values[1]!), inv, syn: false };
            break;
          case 'tcp-option': {
            const n = parseUint(v.text, 1, 255);
            if (n === null) failAt(v, `Bad TCP option "${v.text}"`);
            option = n;
            optionInv = inv;
            break;
          }
        }
      },
      finish(e, at) {
        requireProto(e, at, 6, "TCP match requires '-p tcp'");
      },
      create() {
        if (spts === ANY_PORT && dpts === ANY_PORT && flags === null && option === 0) {
          // `-m tcp` alone (kube-proxy's DNAT rules): one shared instance, as it keeps no state.
          plainTcp ??= new TcpMatch(ANY_PORT, ANY_PORT, 0, 0, false, 0, false);
          return plainTcp;
        }
        return new TcpMatch(spts, dpts, flags?.mask ?? 0, flags?.cmp ?? 0, flags?.inv ?? false, option, optionInv);
      },
    };
  },
};
