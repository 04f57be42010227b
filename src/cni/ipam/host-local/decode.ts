// Reading host-local's JSON the way Go's encoding/json reads it into the reference's structs: keys match exactly
// or else case-insensitively, `null` leaves a field unset, an empty string for an IP is "no IP", IP and CIDR text is
// checked with net.ParseIP / net.ParseCIDR's wording ("invalid IP address: x", "invalid CIDR address: x"), and a
// value of the wrong JSON kind is refused naming the field. IPv6 text is recognised here so that the caller can
// refuse it with context; podwire's stack is IPv4 only.
// Limits: messages for a value of the wrong kind follow Go's for the common fields; deeper ones are close, not exact.

import { isIPv6 } from 'node:net';
import { type Cidr, type Ipv4, looksLikeIpv6, parseCidr, parseIpv4 } from '../../../wire/addr.js';

export type Json = unknown;
export type JsonObject = Record<string, unknown>;

function kindOf(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v;
}

export function decodeError(v: Json, field: string, goType: string): Error {
  return new Error(`json: cannot unmarshal ${kindOf(v)} into Go struct field ${field} of type ${goType}`);
}

export function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key as encoding/json finds it: the exact name first, else the first key equal ignoring case. */
export function field(obj: JsonObject, name: string): Json {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

// Each reader takes `at`, the field as Go's error names it (`IPAMConfig.ipam.subnet`, `Range.ipam.ranges.gateway`).

/** Undefined for absent or null; otherwise must be a string. */
export function optString(obj: JsonObject, name: string, at: string, goType = 'string'): string | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw decodeError(v, at, goType);
  return v;
}

export function optArray(obj: JsonObject, name: string, at: string, goType: string): Json[] | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw decodeError(v, at, goType);
  return v;
}

export function optObject(obj: JsonObject, name: string, at: string, goType: string): JsonObject | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw decodeError(v, at, goType);
  return v;
}

/** Go int fields: integral JSON numbers only. */
export function optInt(obj: JsonObject, name: string, at: string): number | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw decodeError(v, at, 'int');
  return v;
}

/** An address as text that net.ParseIP accepts: IPv4 dotted quad or IPv6. */
export type IpText = { v4: Ipv4; text: string } | { v6: string };

export function parseIpText(text: string): IpText | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { v4, text };
  if (looksLikeIpv6(text) && isIPv6(text)) return { v6: text };
  return null;
}

/** A CIDR as net.ParseCIDR accepts it; host bits are kept, as the CNI types keep them. */
export type CidrText = { v4: Cidr } | { v6: string };

export function parseCidrText(text: string): CidrText | null {
  const v4 = parseCidr(text);
  if (v4 !== null && text.includes('/')) return { v4 };
  const slash = text.indexOf('/');
  if (slash > 0 && /^(0|[1-9][0-9]{0,2})$/.test(text.slice(slash + 1))) {
    const ip = text.slice(0, slash);
    if (Number(text.slice(slash + 1)) <= 128 && looksLikeIpv6(ip) && isIPv6(ip)) return { v6: text };
  }
  return null;
}

/** A `net.IP` JSON field: absent, null and "" are no address. */
export function optIp(obj: JsonObject, name: string, at: string): IpText | undefined {
  const text = optString(obj, name, at, 'net.IP');
  if (text === undefined || text === '') return undefined;
  const ip = parseIpText(text);
  if (ip === null) throw new Error(`invalid IP address: ${text}`);
  return ip;
}

/** A `types.IPNet` JSON field (net.ParseCIDR): absent and null are no subnet; "" is an invalid CIDR. */
export function optCidr(obj: JsonObject, name: string, at: string): CidrText | undefined {
  const text = optString(obj, name, at);
  if (text === undefined) return undefined;
  const c = parseCidrText(text);
  if (c === null) throw new Error(`invalid CIDR address: ${text}`);
  return c;
}

/**
 * The plugins' `ip.IP` text (`<ip>[/<prefix>]`, prefix dropped), as CNI_ARGS `IP=`, `args.cni.ips` and
 * `runtimeConfig.ips` carry it. "" is no address. The error is that type's own wording (no colon).
 */
export function parseIpArg(text: string): IpText | null | undefined {
  if (text === '') return undefined;
  if (text.includes('/')) {
    const c = parseCidrText(text);
    if (c === null) return null;
    if ('v6' in c) return { v6: c.v6.slice(0, c.v6.indexOf('/')) };
    return parseIpText(text.slice(0, text.indexOf('/')));
  }
  return parseIpText(text);
}

export function ipv6Refused(what: string): Error {
  return new Error(`IPv6 is not supported by podwire (${what})`);
}
