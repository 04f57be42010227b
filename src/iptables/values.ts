// Value syntax shared by iptables and its extensions (libxtables): numbers as strtoul reads them (decimal, 0x hex,
// 0 octal), IPv4 addresses with iptables' own shorthand (`10/8` is 10.0.0.0/8, `1.2.3` is 1.2.3.0), masks as a
// prefix length or a dotted quad, interface names with the `+` wildcard, protocols and ports by number or name, and
// the quoting iptables-save applies to strings (xtables_save_string). Host names are not resolved: iptables would
// ask DNS, the emulator refuses them with iptables' "not found" message.

import { type Arg, failAt } from './args.js';
import { protoByName, protoName, serviceByName } from './protocols.js';
import type { AddrSpec, IfaceSpec } from './types.js';

const NUMBER = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

/** strtoul(s, &end, 0) over the whole string: decimal, 0x hex or 0 octal; null when not a number. */
export function parseCNumber(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  const n =
    text.startsWith('0x') || text.startsWith('0X')
      ? Number.parseInt(text.slice(2), 16)
      : text.startsWith('0') && text.length > 1
        ? Number.parseInt(text.slice(1), 8)
        : Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** xtables_strtoui: a C number within [min, max], or null. */
export function parseUint(text: string, min: number, max: number): number | null {
  const n = parseCNumber(text);
  return n !== null && n >= min && n <= max ? n : null;
}

/** Plain decimal only (rule numbers, counters). */
export function parseDecimal(text: string, max = Number.MAX_SAFE_INTEGER): number | null {
  if (!/^[0-9]+$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

/** `0x…` as iptables prints marks and masks. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** Dotted-quad form. */
export function ipStr(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * xtables_numeric_to_ipaddr: up to four parts, each a C number 0-255; missing trailing parts are zero (`10` is
 * 10.0.0.0). A mask needs all four parts.
 */
export function parseIpv4Loose(text: string, isMask = false): number | null {
  const quick = plainDottedQuad(text, isMask);
  if (quick >= 0) return quick;
  const parts = text.split('.');
  if (parts.length > 4 || parts.length === 0) return null;
  if (isMask && parts.length !== 4) return null;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    let b = 0;
    if (p !== undefined) {
      const n = parseUint(p, 0, 255);
      if (n === null) return null;
      b = n;
    }
    v = v * 256 + b;
  }
  return v >>> 0;
}

/**
 * The common spelling, read without splitting: one to four plain decimal parts (no leading zero) of at most 255,
 * four for a mask. -1 for anything else, which the general reader then decides on.
 */
function plainDottedQuad(text: string, isMask: boolean): number {
  let v = 0;
  let parts = 0;
  let i = 0;
  const n = text.length;
  while (parts < 4) {
    const start = i;
    let b = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      b = b * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || b > 255 || (len > 1 && text.charCodeAt(start) === 48)) return -1;
    v = v * 256 + b;
    parts++;
    if (i === n) break;
    if (text.charCodeAt(i) !== 46) return -1;
    i++;
  }
  if (i !== n || (isMask && parts !== 4)) return -1;
  for (; parts < 4; parts++) v *= 256;
  return v >>> 0;
}

export function prefixToMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Prefix length of a contiguous mask, or -1. */
export function maskToPrefix(mask: number): number {
  const m = mask >>> 0;
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  let len = 0;
  for (let x = m; x !== 0; x = (x << 1) >>> 0) len++;
  return len;
}

/** xtables_ipmask_to_numeric: `` for /32, `/24`, or `/255.0.255.0` for a non-contiguous mask. */
export function maskSuffix(mask: number): string {
  const len = maskToPrefix(mask);
  if (len === 32) return '';
  return len < 0 ? `/${ipStr(mask)}` : `/${len}`;
}

/** `10.0.0.0/8` as iptables-save prints an address (always with a suffix, `/32` included). */
export function saveAddr(addr: number, mask: number): string {
  const len = maskToPrefix(mask);
  return `${ipStr(addr)}/${len < 0 ? ipStr(mask) : len}`;
}

/** One `addr[/mask]` as iptables parses `-s`, `-d`, `--ctorigsrc`; the mask is /32 when absent. */
export function parseAddrMask(at: Arg, text: string): { addr: number; mask: number } {
  const slash = text.indexOf('/');
  const host = slash < 0 ? text : text.slice(0, slash);
  let mask = 0xffffffff;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    if (m.includes('.')) {
      const dotted = parseIpv4Loose(m, true);
      if (dotted === null) failAt(at, `invalid mask \`${m}' specified`);
      mask = dotted;
    } else {
      const len = parseUint(m, 0, 32);
      if (len === null) failAt(at, `invalid mask \`${m}' specified`);
      mask = prefixToMask(len);
    }
  }
  const addr = parseIpv4Loose(host);
  if (addr === null) {
    const why = host.includes(':') ? ' (IPv6 is not supported)' : ' (host names are not resolved)';
    failAt(at, `host/network \`${host}' not found${why}`);
  }
  return { addr, mask };
}

/** `-s a,b/24,…`: every address of a comma-separated list (iptables adds one rule per address). */
export function parseAddrList(at: Arg, inv: boolean): AddrSpec[] {
  const items = at.text.split(',');
  if (items.some((s) => s === '')) failAt(at, `host/network \`${at.text}' not found`);
  return items.map((s) => {
    const { addr, mask } = parseAddrMask(at, s);
    return { addr: (addr & mask) >>> 0, mask, inv };
  });
}

/** xtables_parse_interface: at most 15 characters, a trailing `+` matches every name with that prefix. */
export function parseIface(at: Arg, inv: boolean): IfaceSpec {
  const t = at.text;
  if (t === '') failAt(at, 'Empty interface is likely to be undesired');
  if (t.length >= 16) failAt(at, `interface name \`${t}' must be shorter than IFNAMSIZ (15)`);
  // iptables only warns; the kernel never names a device so, and iptables-save could not write the rule back.
  if (/[\s"/]/.test(t)) failAt(at, `interface name \`${t}' has a character device names cannot have`);
  if (t.endsWith('+')) return { name: t.slice(0, -1), wildcard: true, inv };
  return { name: t, wildcard: false, inv };
}

/** The text of an interface as saved (`eth+`). */
export function ifaceText(i: IfaceSpec): string {
  return i.wildcard ? `${i.name}+` : i.name;
}

/** xtables_parse_protocol: a number 0-255, `all`, or a name from the protocol table. */
export function parseProtocol(at: Arg): number {
  const t = at.text;
  const n = parseUint(t, 0, 255);
  if (n !== null) return n;
  if (t === 'all') return 0;
  const byName = protoByName(t) ?? protoByName(t.toLowerCase());
  if (byName !== undefined) return byName;
  return failAt(at, `unknown protocol "${t}" specified`);
}

/** What iptables-save prints after `-p`: the protocol's name, else its number. */
export function protoSaveName(num: number): string {
  return protoName(num) ?? String(num);
}

/** Port names are looked up for tcp/udp (and for protocols without a table, in any). */
function protoForServices(proto: number | undefined): 'tcp' | 'udp' | undefined {
  if (proto === 6) return 'tcp';
  if (proto === 17) return 'udp';
  return undefined;
}

/** xtables_parse_port: a number 0-65535 or a service name. */
export function parsePort(at: Arg, text: string, proto?: number): number {
  const n = parseUint(text, 0, 0xffff);
  if (n !== null) return n;
  const s = serviceByName(text, protoForServices(proto));
  if (s !== undefined) return s;
  return failAt(at, `invalid port/service \`${text}' specified`);
}

/** `a`, `a:b`, `:b` (0:b), `a:` (a:65535), as the tcp and udp matches read port ranges. */
export function parsePortRange(at: Arg, proto: number | undefined): [number, number] {
  const t = at.text;
  const c = t.indexOf(':');
  if (c < 0) {
    const p = parsePort(at, t, proto);
    return [p, p];
  }
  const lo = c === 0 ? 0 : parsePort(at, t.slice(0, c), proto);
  const hi = c === t.length - 1 ? 0xffff : parsePort(at, t.slice(c + 1), proto);
  if (lo > hi) failAt(at, 'invalid portrange (min > max)');
  return [lo, hi];
}

/** `80` or `1000:2000`, as the port matches print a range. */
export function portRangeText(lo: number, hi: number): string {
  return lo === hi ? String(lo) : `${lo}:${hi}`;
}

const NO_QUOTE = /^[_\-0-9a-zA-Z]+$/;

/** xtables_save_string: bare when only [-_0-9a-zA-Z], else double-quoted with `"`, `\` and `'` escaped. */
export function saveString(s: string): string {
  if (NO_QUOTE.test(s)) return s;
  return `"${s.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** `value[/mask]` (xtables_parse_mark_mask); the mask defaults to all ones. */
export function parseMarkMask(text: string): { value: number; mask: number } | null {
  const slash = text.indexOf('/');
  const v = parseUint(slash < 0 ? text : text.slice(0, slash), 0, 0xffffffff);
  if (v === null) return null;
  if (slash < 0) return { value: v, mask: 0xffffffff };
  const m = parseUint(text.slice(slash + 1), 0, 0xffffffff);
  return m === null ? null : { value: v, mask: m };
}

/** `0x10` or `0x10/0xff` (the mask left out when all ones), as mark and connmark print. */
export function markText(value: number, mask: number): string {
  return mask >>> 0 === 0xffffffff ? hex(value) : `${hex(value)}/${hex(mask)}`;
}
