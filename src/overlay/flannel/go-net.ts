// Go's net.ParseCIDR and net.ParseIP for the IPv4 cases flannel meets (its ip.IP4 and ip.IP4Net UnmarshalJSON,
// the node's podCIDR), with their error texts: `invalid CIDR address: <text>` for anything ParseCIDR refuses, and
// flannel's own `invalid IPv4 CIDR format` / `invalid IPv4 address format` for a valid IPv6 value. The prefix
// length is read as Go's dtoi does (decimal, leading zeros allowed, nothing after it).
// Limits: IPv6 is recognised by its shape only (it is refused anyway); IPv4-mapped IPv6 addresses count as IPv6.

import { type Cidr, type Ipv4, looksLikeIpv6, networkOf, parseIpv4 } from '../../wire/addr.js';

export type ParsedCidr = { ok: true; cidr: Cidr; v6: false } | { ok: true; v6: true } | { ok: false; error: string };

/** Go's dtoi: a decimal number at the start of `s`; `end` is where it stopped. */
function dtoi(s: string): { n: number; end: number; ok: boolean } {
  let n = 0;
  let i = 0;
  for (; i < s.length && s[i]! >= '0' && s[i]! <= '9'; i++) {
    n = n * 10 + (s.charCodeAt(i) - 48);
    if (n >= 0xffffff) return { n: 0xffffff, end: i, ok: false };
  }
  if (i === 0) return { n: 0, end: 0, ok: false };
  return { n, end: i, ok: true };
}

/** net.ParseCIDR: the network (host bits cleared) and prefix length. */
export function goParseCidr(text: string): ParsedCidr {
  const bad = { ok: false as const, error: `invalid CIDR address: ${text}` };
  const slash = text.indexOf('/');
  if (slash < 0) return bad;
  const addrText = text.slice(0, slash);
  const maskText = text.slice(slash + 1);
  const addr = parseIpv4(addrText);
  const v6 = addr === null && looksLikeIpv6(addrText) && !addrText.includes('/');
  if (addr === null && !v6) return bad;
  const m = dtoi(maskText);
  if (!m.ok || m.end !== maskText.length || m.n > (v6 ? 128 : 32)) return bad;
  if (v6) return { ok: true, v6: true };
  return { ok: true, v6: false, cidr: { addr: networkOf({ addr: addr!, len: m.n }), len: m.n } };
}

/** flannel's ip.ParseIP4. */
export function goParseIp4(text: string): { ok: true; ip: Ipv4 } | { ok: false; error: string } {
  const ip = parseIpv4(text);
  if (ip !== null) return { ok: true, ip };
  if (looksLikeIpv6(text) && !text.includes('/')) return { ok: false, error: 'invalid IPv4 address format' };
  return { ok: false, error: 'invalid IP address format' };
}
