// `-j LOG` (xt_LOG): writes a kernel log line for the packet and continues. The text follows nf_log_syslog's
// dump_ipv4_packet word for word: `IN= OUT= [PHYSIN= PHYSOUT=] MAC=… SRC= DST= LEN= TOS= PREC= TTL= ID= [CE DF MF
// FRAG:] PROTO=…` with TCP ports, window, flags (and SEQ/ACK, options with --log-tcp-sequence/--log-tcp-options),
// UDP ports and length, ICMP type/code, echo id/sequence and the quoted packet of an ICMP error, then MARK. The
// kernel's trailing space is left off. Limits: --log-uid prints nothing (the emulator has no users); AH/ESP
// headers are not decoded (PROTO=50/51).

import { failAt } from '../args.js';
import type { ExtParser, RuleEnv, TargetModule } from '../ext.js';
import type { PacketCtx, Target, TargetResult } from '../types.js';
import { ipStr, saveString } from '../values.js';

const TCPSEQ = 0x01;
const TCPOPT = 0x02;
const IPOPT = 0x04;
const UID = 0x08;
const MACDECODE = 0x20;

/** ipt_log_names order (the first name of a level is the one listed). */
const LEVELS: readonly [string, number][] = [
  ['alert', 1],
  ['crit', 2],
  ['debug', 7],
  ['emerg', 0],
  ['error', 3],
  ['info', 6],
  ['notice', 5],
  ['panic', 0],
  ['warning', 4],
];

const PREFIX_MAX = 29;

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

function optHex(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += hex2(b[i] ?? 0).toUpperCase();
  return `OPT (${s}) `;
}

/** dump_ipv4_packet: the header at `o` of `b` (valid bytes up to `end`); `inner` for the packet inside an ICMP error. */
function dumpIpv4(b: Uint8Array, o: number, end: number, flags: number, inner: boolean): string {
  if (end - o < 20) return 'TRUNCATED';
  let s = `SRC=${ipStr(u32(b, o + 12))} DST=${ipStr(u32(b, o + 16))} `;
  const tos = b[o + 1]!;
  const frag = u16(b, o + 6);
  s += `LEN=${u16(b, o + 2)} TOS=0x${hex2(tos & 0x1e).toUpperCase()} PREC=0x${hex2(tos & 0xe0).toUpperCase()} `;
  s += `TTL=${b[o + 8]} ID=${u16(b, o + 4)} `;
  if (frag & 0x8000) s += 'CE ';
  if (frag & 0x4000) s += 'DF ';
  if (frag & 0x2000) s += 'MF ';
  const offset = frag & 0x1fff;
  if (offset) s += `FRAG:${offset} `;
  const ihl = (b[o]! & 0x0f) * 4;
  if (flags & IPOPT && ihl > 20) s += optHex(b, o + 20, o + ihl);
  const th = o + ihl;
  const proto = b[o + 9]!;
  switch (proto) {
    case 6: {
      s += 'PROTO=TCP ';
      if (offset) break;
      if (end - th < 20) {
        s += `INCOMPLETE [${Math.max(0, end - th)} bytes] `;
        break;
      }
      s += `SPT=${u16(b, th)} DPT=${u16(b, th + 2)} `;
      if (flags & TCPSEQ) s += `SEQ=${u32(b, th + 4)} ACK=${u32(b, th + 8)} `;
      s += `WINDOW=${u16(b, th + 14)} `;
      s += `RES=0x${hex2((u32(b, th + 12) & 0x0fc00000) >>> 22)} `;
      const f = b[th + 13]!;
      for (const [bit, name] of [
        [0x80, 'CWR'],
        [0x40, 'ECE'],
        [0x20, 'URG'],
        [0x10, 'ACK'],
        [0x08, 'PSH'],
        [0x04, 'RST'],
        [0x02, 'SYN'],
        [0x01, 'FIN'],
      ] as const) {
        if (f & bit) s += `${name} `;
      }
      s += `URGP=${u16(b, th + 18)} `;
      const doff = (b[th + 12]! >> 4) * 4;
      if (flags & TCPOPT && doff > 20) s += optHex(b, th + 20, Math.min(th + doff, end));
      break;
    }
    case 17:
    case 136: {
      s += proto === 17 ? 'PROTO=UDP ' : 'PROTO=UDPLITE ';
      if (offset) break;
      if (end - th < 8) {
        s += `INCOMPLETE [${Math.max(0, end - th)} bytes] `;
        break;
      }
      s += `SPT=${u16(b, th)} DPT=${u16(b, th + 2)} LEN=${u16(b, th + 4)} `;
      break;
    }
    case 1: {
      s += 'PROTO=ICMP ';
      if (offset) break;
      if (end - th < 4) {
        s += `INCOMPLETE [${Math.max(0, end - th)} bytes] `;
        break;
      }
      const type = b[th]!;
      const code = b[th + 1]!;
      s += `TYPE=${type} CODE=${code} `;
      switch (type) {
        case 0:
        case 8:
          s += `ID=${u16(b, th + 4)} SEQ=${u16(b, th + 6)} `;
          break;
        case 12:
          s += `PARAMETER=${b[th + 4]} `;
          break;
        case 5:
        case 3:
        case 4:
        case 11:
          // A redirect names its gateway, then quotes the packet like the errors do.
          if (type === 5) s += `GATEWAY=${ipStr(u32(b, th + 4))} `;
          if (!inner) s += `[${dumpIpv4(b, th + 8, end, flags, true)}] `;
          if (type === 3 && code === 4) s += `MTU=${u16(b, th + 6)} `;
          break;
      }
      break;
    }
    default:
      s += `PROTO=${proto} `;
  }
  return s;
}

/** The log line (without prefix) the kernel writes for the packet in `ctx`. */
export function formatLogText(ctx: PacketCtx, flags: number): string {
  let s = `IN=${ctx.inDev?.name ?? ''} OUT=${ctx.outDev?.name ?? ''} `;
  if (ctx.physIn && ctx.physIn !== ctx.inDev) s += `PHYSIN=${ctx.physIn.name} `;
  if (ctx.physOut && ctx.physOut !== ctx.outDev) s += `PHYSOUT=${ctx.physOut.name} `;
  const skb = ctx.skb;
  const b = skb.buf;
  if (ctx.inDev !== null) {
    const dev = skb.dev ?? ctx.inDev;
    const mh = skb.nh - 14;
    const hasMac = mh >= 0;
    if (flags & MACDECODE && hasMac && dev.kind !== 'loopback') {
      const mac = (o: number): string => Array.from(b.subarray(o, o + 6), hex2).join(':');
      s += `MACSRC=${mac(mh + 6)} MACDST=${mac(mh)} MACPROTO=${hex2(b[mh + 12]!)}${hex2(b[mh + 13]!)} `;
    } else {
      s += `MAC=${hasMac ? Array.from(b.subarray(mh, skb.nh), hex2).join(':') : ''} `;
    }
  }
  s += dumpIpv4(b, skb.nh, skb.end, flags, false);
  if (skb.mark) s += `MARK=0x${skb.mark.toString(16)} `;
  return s.trimEnd();
}

export class LogTarget implements Target {
  readonly name = 'LOG';

  constructor(
    readonly level: number,
    readonly prefix: string,
    readonly flags: number,
  ) {}

  run(ctx: PacketCtx): TargetResult {
    ctx.env.log(this.prefix, formatLogText(ctx, this.flags));
    return { kind: 'continue' };
  }

  save(): string {
    let s = '-j LOG';
    if (this.prefix !== '') s += ` --log-prefix ${saveString(this.prefix)}`;
    if (this.level !== 4) s += ` --log-level ${this.level}`;
    if (this.flags & TCPSEQ) s += ' --log-tcp-sequence';
    if (this.flags & TCPOPT) s += ' --log-tcp-options';
    if (this.flags & IPOPT) s += ' --log-ip-options';
    if (this.flags & UID) s += ' --log-uid';
    if (this.flags & MACDECODE) s += ' --log-macdecode';
    return s;
  }

  print(numeric: boolean): string {
    let s = 'LOG';
    if (numeric) s += ` flags ${this.flags} level ${this.level}`;
    else {
      const name = LEVELS.find(([, l]) => l === this.level)?.[0];
      s += name !== undefined ? ` level ${name}` : ` UNKNOWN level ${this.level}`;
      if (this.flags & TCPSEQ) s += ' tcp-sequence';
      if (this.flags & TCPOPT) s += ' tcp-options';
      if (this.flags & IPOPT) s += ' ip-options';
      if (this.flags & UID) s += ' uid';
      if (this.flags & MACDECODE) s += ' macdecode';
    }
    if (this.prefix !== '') s += ` prefix "${this.prefix}"`;
    return s;
  }
}

const FLAG_OPTS: Record<string, number> = {
  'log-tcp-sequence': TCPSEQ,
  'log-tcp-options': TCPOPT,
  'log-ip-options': IPOPT,
  'log-uid': UID,
  'log-macdecode': MACDECODE,
};

export const logModule: TargetModule = {
  name: 'LOG',
  options: [
    { name: 'log-level', args: 1 },
    { name: 'log-prefix', args: 1 },
    ...Object.keys(FLAG_OPTS).map((name) => ({ name, args: 0 as const })),
  ],
  parser(_env: RuleEnv): ExtParser<Target> {
    let level = 4;
    let prefix = '';
    let flags = 0;
    return {
      parse(opt, _inv, values) {
        const v = values[0];
        if (opt.name === 'log-level') {
          const t = v!.text;
          const byName = LEVELS.find(([n]) => n === t.toLowerCase());
          const n = /^[0-7]$/.test(t) ? Number(t) : byName?.[1];
          if (n === undefined) failAt(v, `log level "${t}" unknown`);
          level = n;
        } else if (opt.name === 'log-prefix') {
          const t = v!.text;
          if (t.length === 0) failAt(v, 'Argument must have a minimum length of 1 characters');
          if (t.includes('\n')) failAt(v, 'Newlines not allowed in --log-prefix');
          prefix = t.slice(0, PREFIX_MAX);
        } else {
          flags |= FLAG_OPTS[opt.name]!;
        }
      },
      finish() {},
      create() {
        return new LogTarget(level, prefix, flags);
      },
    };
  },
};
