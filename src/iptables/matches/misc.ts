// Small matches: `-m iprange --src-range/--dst-range A[-B]` (xt_iprange), `-m mac --mac-source MAC` (xt_mac, the
// Ethernet source of a received frame; valid in PREROUTING, INPUT and FORWARD) and `-m length --length A[:B]`
// (xt_length, the IPv4 total length), each invertible.

import type { NfHook } from '../../netns/hooks.js';
import { type Arg, failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { ipStr, parseIpv4Loose, parseUint } from '../values.js';

interface Range {
  lo: number;
  hi: number;
  inv: boolean;
}

function parseIpRange(at: Arg, inv: boolean): Range {
  const dash = at.text.indexOf('-');
  const a = parseIpv4Loose(dash < 0 ? at.text : at.text.slice(0, dash));
  const b = dash < 0 ? a : parseIpv4Loose(at.text.slice(dash + 1));
  if (a === null || b === null) failAt(at, `iprange match: Bad IP address "${at.text}"`);
  return { lo: a, hi: b, inv };
}

export class IprangeMatch implements Match {
  readonly name = 'iprange';

  constructor(
    readonly src: Range | null,
    readonly dst: Range | null,
  ) {}

  matches(ctx: PacketCtx): boolean {
    const s = this.src;
    if (s && (ctx.src >= s.lo && ctx.src <= s.hi) === s.inv) return false;
    const d = this.dst;
    if (d && (ctx.dst >= d.lo && ctx.dst <= d.hi) === d.inv) return false;
    return true;
  }

  save(): string {
    let out = '-m iprange';
    if (this.src) out += `${this.src.inv ? ' !' : ''} --src-range ${ipStr(this.src.lo)}-${ipStr(this.src.hi)}`;
    if (this.dst) out += `${this.dst.inv ? ' !' : ''} --dst-range ${ipStr(this.dst.lo)}-${ipStr(this.dst.hi)}`;
    return out;
  }

  print(): string {
    const parts: string[] = [];
    if (this.src) parts.push(`source IP range ${this.src.inv ? '! ' : ''}${ipStr(this.src.lo)}-${ipStr(this.src.hi)}`);
    if (this.dst) {
      parts.push(`destination IP range ${this.dst.inv ? '! ' : ''}${ipStr(this.dst.lo)}-${ipStr(this.dst.hi)}`);
    }
    return parts.join(' ');
  }
}

export const iprangeModule: MatchModule = {
  name: 'iprange',
  options: [
    { name: 'src-range', args: 1, invert: true },
    { name: 'dst-range', args: 1, invert: true },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let src: Range | null = null;
    let dst: Range | null = null;
    return {
      parse(opt, inv, values) {
        if (opt.name === 'src-range') src = parseIpRange(values[0]!, inv);
        else dst = parseIpRange(values[0]!, inv);
      },
      finish(_e, at) {
        if (!src && !dst) failAt(at, "iprange match: You must specify `--src-range' or `--dst-range'");
      },
      create() {
        return new IprangeMatch(src, dst);
      },
    };
  },
};

const MAC_HOOKS: readonly NfHook[] = ['PREROUTING', 'INPUT', 'FORWARD'];

function macText(b: readonly number[]): string {
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class MacMatch implements Match {
  readonly name = 'mac';
  readonly hooks = MAC_HOOKS;

  constructor(
    readonly mac: readonly number[],
    readonly inv: boolean,
  ) {}

  matches(ctx: PacketCtx): boolean {
    const skb = ctx.skb;
    const dev = skb.dev;
    // The frame's Ethernet header sits right before the IPv4 header on a received packet.
    if (dev === null || dev.kind === 'loopback' || skb.nh < 14) return this.inv;
    const o = skb.nh - 14 + 6;
    let same = true;
    for (let i = 0; i < 6; i++) if (skb.buf[o + i] !== this.mac[i]) same = false;
    return same !== this.inv;
  }

  save(): string {
    return `-m mac${this.inv ? ' !' : ''} --mac-source ${macText(this.mac)}`;
  }

  print(): string {
    return `MAC ${this.inv ? '! ' : ''}${macText(this.mac)}`;
  }
}

export const macModule: MatchModule = {
  name: 'mac',
  options: [{ name: 'mac-source', args: 1, invert: true }],
  parser(_env: RuleEnv): ExtParser<Match> {
    let mac: number[] | null = null;
    let inv = false;
    return {
      parse(_opt, i, values) {
        const v = values[0]!;
        const parts = v.text.split(':');
        if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
          failAt(v, 'Invalid MAC address specified.');
        }
        mac = parts.map((p) => Number.parseInt(p, 16));
        inv = i;
      },
      finish(_e, at) {
        if (mac === null) failAt(at, 'mac: option "--mac-source" must be specified');
      },
      create() {
        return new MacMatch(mac!, inv);
      },
    };
  },
};

export class LengthMatch implements Match {
  readonly name = 'length';

  constructor(
    readonly min: number,
    readonly max: number,
    readonly inv: boolean,
  ) {}

  matches(ctx: PacketCtx): boolean {
    return (ctx.len >= this.min && ctx.len <= this.max) !== this.inv;
  }

  private range(): string {
    return this.min === this.max ? String(this.min) : `${this.min}:${this.max}`;
  }

  save(): string {
    return `-m length${this.inv ? ' !' : ''} --length ${this.range()}`;
  }

  print(): string {
    return `length ${this.inv ? '!' : ''}${this.range()}`;
  }
}

export const lengthModule: MatchModule = {
  name: 'length',
  options: [{ name: 'length', args: 1, invert: true }],
  parser(_env: RuleEnv): ExtParser<Match> {
    let range: [number, number] | null = null;
    let inv = false;
    return {
      parse(_opt, i, values) {
        const v = values[0]!;
        const c = v.text.indexOf(':');
        const one = (t: string, dflt: number): number => {
          if (t === '') return dflt;
          const n = parseUint(t, 0, 0xffff);
          if (n === null) {
            failAt(v, `length: bad value for option "--length" near "${t}", or out of range (0-65535).`);
          }
          return n;
        };
        const lo = one(c < 0 ? v.text : v.text.slice(0, c), 0);
        const hi = c < 0 ? lo : one(v.text.slice(c + 1), 0xffff);
        if (c < 0 && v.text === '') failAt(v, 'length: bad value for option "--length"');
        range = [lo, hi];
        inv = i;
      },
      finish(_e, at) {
        if (range === null) failAt(at, 'length: option "--length" must be specified');
      },
      create() {
        return new LengthMatch(range![0], range![1], inv);
      },
    };
  },
};
