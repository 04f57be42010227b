// Value words of iproute2-style commands, checked where they are read so the error points at the word: IPv4
// addresses and prefixes (strict dotted quads, see wire/addr), MAC addresses, decimal integers, on/off, and the
// names the kernel accepts for devices (dev_valid_name: 1–15 bytes, no '/', ':' or whitespace, not "." or
// "..") and for named namespaces (iproute2's rules plus no ':' or whitespace). IPv6 is recognised only to
// say it is not supported. Limits: no hexadecimal numbers (iproute2 takes 0x…), no abbreviated dotted quads.

import type { Cidr, Ipv4, Mac } from '../../wire/addr.js';
import { formatIpv4, looksLikeIpv6, networkOf, parseCidr, parseIpv4, parseMac } from '../../wire/addr.js';
import type { Args } from './args.js';
import type { Token } from './tokenize.js';

export const IPV6_UNSUPPORTED = 'IPv6 is not supported';

function rejectIpv6(args: Args, tok: Token): void {
  if (looksLikeIpv6(tok.text)) args.fail(tok, `${IPV6_UNSUPPORTED}: '${tok.text}'`);
}

export function ipv4(args: Args, tok: Token, what = 'IPv4 address'): Ipv4 {
  rejectIpv6(args, tok);
  const a = parseIpv4(tok.text);
  if (a === null) args.fail(tok, `invalid ${what} '${tok.text}' (expected a dotted quad like 10.0.0.1)`);
  return a;
}

/** ADDR[/LEN]; a bare address is /32. */
export function cidr(args: Args, tok: Token, what = 'address'): Cidr {
  rejectIpv6(args, tok);
  const c = parseCidr(tok.text);
  if (c === null) args.fail(tok, `invalid ${what} '${tok.text}' (expected an IPv4 address with optional /0-32)`);
  return c;
}

/** A route destination: `default`, `any` or `all` (0.0.0.0/0), or a prefix without host bits set. */
export function routePrefix(args: Args, tok: Token): Cidr {
  if (tok.text === 'default' || tok.text === 'any' || tok.text === 'all') return { addr: 0, len: 0 };
  const c = cidr(args, tok, 'prefix');
  const net = networkOf(c);
  if (net !== c.addr) {
    args.fail(tok, `invalid prefix '${tok.text}': host bits are set (the network is ${formatIpv4(net)}/${c.len})`);
  }
  return c;
}

export function mac(args: Args, tok: Token): Mac {
  const m = parseMac(tok.text);
  if (m === null) args.fail(tok, `invalid MAC address '${tok.text}' (expected six hex octets like 02:42:ac:11:00:02)`);
  return m;
}

/** A decimal integer in [min, max]. */
export function uint(args: Args, tok: Token, what: string, max = 0xffffffff, min = 0): number {
  const ok = /^(0|[1-9][0-9]*)$/.test(tok.text);
  const v = ok ? Number(tok.text) : Number.NaN;
  if (!ok || v < min || v > max) args.fail(tok, `invalid ${what} '${tok.text}' (expected an integer ${min}-${max})`);
  return v;
}

export function onOff(args: Args, tok: Token, what: string): boolean {
  if (tok.text === 'on') return true;
  if (tok.text === 'off') return false;
  return args.fail(tok, `invalid value '${tok.text}' for '${what}' (expected on or off)`);
}

const IFNAMSIZ = 16;

export function devName(args: Args, tok: Token): string {
  const s = tok.text;
  if (s.length === 0 || new TextEncoder().encode(s).length >= IFNAMSIZ || s === '.' || s === '..' || /[/:\s]/.test(s)) {
    args.fail(tok, `invalid device name '${s}' (1-15 characters, no '/', ':' or spaces)`);
  }
  return s;
}

const NAME_MAX = 255;

export function netnsName(args: Args, tok: Token): string {
  const s = tok.text;
  // iproute2 forbids only '/', '.' and '..'; ':' and whitespace are refused too because steps write "ns:dev".
  if (s.length === 0 || new TextEncoder().encode(s).length > NAME_MAX || s === '.' || s === '..' || /[/:\s]/.test(s)) {
    args.fail(tok, `invalid namespace name '${s}' (no '/', ':' or spaces; not '.' or '..')`);
  }
  return s;
}
