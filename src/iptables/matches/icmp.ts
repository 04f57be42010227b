// `-m icmp --icmp-type TYPE[/CODE]` (ipt_icmp): a type by name (any unambiguous prefix, case-insensitive, as
// libipt_icmp reads it) or number, with an optional code; `any` (type 255) matches every ICMP message. Never
// matches a non-first fragment.

import { type Arg, failAt } from '../args.js';
import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { parseUint } from '../values.js';
import { requireProto } from './tcp.js';

/** [name, type, code min, code max]. */
const ICMP_NAMES: readonly (readonly [string, number, number, number])[] = [
  ['any', 0xff, 0, 0xff],
  ['echo-reply', 0, 0, 0xff],
  ['pong', 0, 0, 0xff],
  ['destination-unreachable', 3, 0, 0xff],
  ['network-unreachable', 3, 0, 0],
  ['host-unreachable', 3, 1, 1],
  ['protocol-unreachable', 3, 2, 2],
  ['port-unreachable', 3, 3, 3],
  ['fragmentation-needed', 3, 4, 4],
  ['source-route-failed', 3, 5, 5],
  ['network-unknown', 3, 6, 6],
  ['host-unknown', 3, 7, 7],
  ['network-prohibited', 3, 9, 9],
  ['host-prohibited', 3, 10, 10],
  ['TOS-network-unreachable', 3, 11, 11],
  ['TOS-host-unreachable', 3, 12, 12],
  ['communication-prohibited', 3, 13, 13],
  ['host-precedence-violation', 3, 14, 14],
  ['precedence-cutoff', 3, 15, 15],
  ['source-quench', 4, 0, 0xff],
  ['redirect', 5, 0, 0xff],
  ['network-redirect', 5, 0, 0],
  ['host-redirect', 5, 1, 1],
  ['TOS-network-redirect', 5, 2, 2],
  ['TOS-host-redirect', 5, 3, 3],
  ['echo-request', 8, 0, 0xff],
  ['ping', 8, 0, 0xff],
  ['router-advertisement', 9, 0, 0xff],
  ['router-solicitation', 10, 0, 0xff],
  ['time-exceeded', 11, 0, 0xff],
  ['ttl-exceeded', 11, 0, 0xff],
  ['ttl-zero-during-transit', 11, 0, 0],
  ['ttl-zero-during-reassembly', 11, 1, 1],
  ['parameter-problem', 12, 0, 0xff],
  ['ip-header-bad', 12, 0, 0],
  ['required-option-missing', 12, 1, 1],
  ['timestamp-request', 13, 0, 0xff],
  ['timestamp-reply', 14, 0, 0xff],
  ['address-mask-request', 17, 0, 0xff],
  ['address-mask-reply', 18, 0, 0xff],
];

function parseIcmpType(at: Arg): [number, number, number] {
  const t = at.text;
  const lower = t.toLowerCase();
  let found: (typeof ICMP_NAMES)[number] | undefined;
  for (const e of ICMP_NAMES) {
    if (!e[0].toLowerCase().startsWith(lower)) continue;
    if (found !== undefined && (found[1] !== e[1] || found[2] !== e[2] || found[3] !== e[3])) {
      failAt(at, `Ambiguous ICMP type \`${t}': \`${found[0]}' or \`${e[0]}'?`);
    }
    found ??= e;
  }
  if (found !== undefined && t !== '') return [found[1], found[2], found[3]];
  const slash = t.indexOf('/');
  const type = parseUint(slash < 0 ? t : t.slice(0, slash), 0, 255);
  if (type === null) failAt(at, `Unknown ICMP type \`${t}'`);
  if (slash < 0) return [type, 0, 0xff];
  const code = parseUint(t.slice(slash + 1), 0, 255);
  if (code === null) failAt(at, `Unknown ICMP code \`${t}'`);
  return [type, code, code];
}

export class IcmpMatch implements Match {
  readonly name = 'icmp';

  constructor(
    readonly type: number,
    readonly codeMin: number,
    readonly codeMax: number,
    readonly inv: boolean,
  ) {}

  matches(ctx: PacketCtx): boolean {
    if (ctx.fragment || ctx.proto !== 1 || ctx.icmpType < 0) return false;
    const hit =
      this.type === 0xff ||
      (ctx.icmpType === this.type && ctx.icmpCode >= this.codeMin && ctx.icmpCode <= this.codeMax);
    return hit !== this.inv;
  }

  save(): string {
    const inv = this.inv ? ' !' : '';
    if (this.type === 0xff) return `-m icmp${inv} --icmp-type any`;
    const code = this.codeMin !== 0 || this.codeMax !== 0xff ? `/${this.codeMin}` : '';
    return `-m icmp${inv} --icmp-type ${this.type}${code}`;
  }

  print(numeric: boolean): string {
    if (!numeric) {
      const e = ICMP_NAMES.find(([, t, lo, hi]) => t === this.type && lo === this.codeMin && hi === this.codeMax);
      if (e) return `icmp ${this.inv ? '!' : ''}${e[0]}`;
    }
    let s = `icmp${this.inv ? ' !' : ''}type ${this.type}`;
    if (this.codeMin === this.codeMax) s += ` code ${this.codeMin}`;
    else if (this.codeMin !== 0 || this.codeMax !== 0xff) s += ` codes ${this.codeMin}-${this.codeMax}`;
    return s;
  }
}

export const icmpModule: MatchModule = {
  name: 'icmp',
  options: [{ name: 'icmp-type', args: 1, invert: true }],
  parser(_env: RuleEnv): ExtParser<Match> {
    let spec: [number, number, number] = [0xff, 0, 0xff];
    let inv = false;
    return {
      parse(_opt, i, values) {
        spec = parseIcmpType(values[0]!);
        inv = i;
      },
      finish(env, at) {
        requireProto(env, at, 1, "ICMP match requires '-p icmp'");
      },
      create() {
        return new IcmpMatch(spec[0], spec[1], spec[2], inv);
      },
    };
  },
};
