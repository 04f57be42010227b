// CNI results in each version's exact shape, and conversion between them. podwire keeps results in the 1.0.0
// shape (types.ts Result); `encodeResult` writes one as a plugin of a given version prints it and `decodeResult`
// reads one back, as libcni's types/040 and types/100 packages do:
//   0.3.0 / 0.3.1 / 0.4.0: {cniVersion, interfaces[{name, mac, sandbox}], ips[{version "4"|"6", interface, address,
//     gateway}], routes[{dst, gw}], dns{nameservers, domain, search, options}} in that (struct) order, `dns` always
//     written (as {} when empty), empty lists left out;
//   1.0.0: the same without ips[].version, written the way current libcni does (via a map: keys sorted, an empty
//     `dns` left out).
// `validateResult` checks that a value has exactly the shape the specification of its version gives (no other keys,
// CIDR addresses, IPs of the right family, interface indexes in range) and `validateErrorObject` does the same for
// error objects and the codes each version reserves.
// Limits: interface mtu/socketPath/pciID and route mtu/advmss/priority/table/scope are 1.1.0 fields: they are
// dropped on output and refused by the validator. The 0.3.0 SPEC.md says `ip` where every implementation (and the
// 0.3.1 typo fix) says `ips`; `ips` is used. 0.1.0/0.2.0 (ip4/ip6) results are not supported.

import { isIPv6 } from 'node:net';
import { parseCidr, parseIpv4, parseMac } from '../../wire/addr.js';
import {
  CniError,
  type CniVersion,
  type Dns,
  type Interface,
  type IpConfig,
  type Result,
  type Route,
} from '../types.js';
import { goMarshalIndent, sortKeysDeep } from './gojson.js';
import { formatPath, isObject, type JsonObject, type JsonPath, type JsonValue } from './json.js';
import { isSupportedVersion } from './version.js';

function isV4Cidr(s: string): boolean {
  return parseCidr(s) !== null && s.includes('/');
}

function isV6Cidr(s: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  return m !== null && isIPv6(m[1]!) && Number(m[2]) <= 128;
}

function familyOfCidr(s: string): 4 | 6 | null {
  if (isV4Cidr(s)) return 4;
  if (isV6Cidr(s)) return 6;
  return null;
}

function familyOfIp(s: string): 4 | 6 | null {
  if (parseIpv4(s) !== null) return 4;
  if (isIPv6(s)) return 6;
  return null;
}

function dnsEmpty(d: Dns | undefined): boolean {
  return (
    !d ||
    ((d.nameservers?.length ?? 0) === 0 && !d.domain && (d.search?.length ?? 0) === 0 && (d.options?.length ?? 0) === 0)
  );
}

function dnsJson(d: Dns | undefined): JsonObject {
  const o: JsonObject = {};
  if (d?.nameservers?.length) o.nameservers = [...d.nameservers];
  if (d?.domain) o.domain = d.domain;
  if (d?.search?.length) o.search = [...d.search];
  if (d?.options?.length) o.options = [...d.options];
  return o;
}

function ifaceJson(i: Interface): JsonObject {
  const o: JsonObject = { name: i.name };
  if (i.mac) o.mac = i.mac;
  if (i.sandbox) o.sandbox = i.sandbox;
  return o;
}

function routeJson(r: Route): JsonObject {
  const o: JsonObject = { dst: r.dst };
  if (r.gw) o.gw = r.gw;
  return o;
}

function ipJson(ip: IpConfig, legacy: boolean): JsonObject {
  const o: JsonObject = {};
  if (legacy) o.version = familyOfCidr(ip.address) === 6 ? '6' : '4';
  if (ip.interface !== undefined) o.interface = ip.interface;
  o.address = ip.address;
  if (ip.gateway) o.gateway = ip.gateway;
  return o;
}

/** The result as a plugin of `version` prints it (key order included). */
export function encodeResult(r: Result, version: CniVersion): JsonObject {
  const legacy = version !== '1.0.0';
  const o: JsonObject = { cniVersion: version };
  if (r.interfaces?.length) o.interfaces = r.interfaces.map(ifaceJson);
  if (r.ips?.length) o.ips = r.ips.map((ip) => ipJson(ip, legacy));
  if (r.routes?.length) o.routes = r.routes.map(routeJson);
  if (legacy) o.dns = dnsJson(r.dns);
  else if (!dnsEmpty(r.dns)) o.dns = dnsJson(r.dns);
  return legacy ? o : (sortKeysDeep(o) as JsonObject);
}

/** types.Result.Print: json.MarshalIndent with four spaces, no trailing newline. */
export function printResult(r: Result, version: CniVersion): string {
  return goMarshalIndent(encodeResult(r, version));
}

/** Reads a result of `version` (validated first) into the 1.0.0 shape podwire works with. */
export function decodeResult(v: unknown, version: CniVersion): Result {
  validateResult(v, version);
  const o = v as JsonObject;
  const r: Result = { cniVersion: version };
  const interfaces = o.interfaces as JsonObject[] | undefined;
  if (interfaces?.length)
    r.interfaces = interfaces.map((i) => ({
      name: i.name as string,
      ...(typeof i.mac === 'string' && i.mac !== '' ? { mac: i.mac } : {}),
      ...(typeof i.sandbox === 'string' && i.sandbox !== '' ? { sandbox: i.sandbox } : {}),
    }));
  const ips = o.ips as JsonObject[] | undefined;
  if (ips?.length)
    r.ips = ips.map((ip) => ({
      ...(typeof ip.interface === 'number' ? { interface: ip.interface } : {}),
      address: ip.address as string,
      ...(typeof ip.gateway === 'string' && ip.gateway !== '' ? { gateway: ip.gateway } : {}),
    }));
  const routes = o.routes as JsonObject[] | undefined;
  if (routes?.length)
    r.routes = routes.map((rt) => ({
      dst: rt.dst as string,
      ...(typeof rt.gw === 'string' && rt.gw !== '' ? { gw: rt.gw } : {}),
    }));
  const dns = o.dns as JsonObject | undefined;
  if (dns && !dnsEmpty(dns as Dns)) {
    const d: Dns = {};
    if (Array.isArray(dns.nameservers) && dns.nameservers.length) d.nameservers = [...(dns.nameservers as string[])];
    if (typeof dns.domain === 'string' && dns.domain) d.domain = dns.domain;
    if (Array.isArray(dns.search) && dns.search.length) d.search = [...(dns.search as string[])];
    if (Array.isArray(dns.options) && dns.options.length) d.options = [...(dns.options as string[])];
    r.dns = d;
  }
  return r;
}

/** A result of one version in another's shape (Result.GetAsVersion). */
export function convertResult(v: unknown, from: CniVersion, to: CniVersion): JsonObject {
  return encodeResult(decodeResult(v, from), to);
}

/** What a result loses when written in `version` and read back: what the next plugin of that version sees. */
export function asSeenBy(r: Result, version: CniVersion): Result {
  return decodeResult(encodeResult(r, version), version);
}

class Problems {
  readonly list: string[] = [];
  add(path: JsonPath, what: string): void {
    this.list.push(`${formatPath(path) || '(result)'}: ${what}`);
  }
}

function onlyKeys(p: Problems, path: JsonPath, o: JsonObject, allowed: readonly string[], version: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      p.add([...path, k], `not a field of a ${version} result (allowed: ${allowed.join(', ')})`);
}

function stringList(p: Problems, path: JsonPath, v: JsonValue, check?: (s: string) => string | null): void {
  if (!Array.isArray(v)) {
    p.add(path, 'must be a list of strings');
    return;
  }
  v.forEach((s, i) => {
    if (typeof s !== 'string') p.add([...path, i], 'must be a string');
    else if (check) {
      const err = check(s);
      if (err) p.add([...path, i], err);
    }
  });
}

function checkDns(p: Problems, path: JsonPath, v: JsonValue, version: string): void {
  if (!isObject(v)) {
    p.add(path, 'must be an object');
    return;
  }
  onlyKeys(p, path, v, ['nameservers', 'domain', 'search', 'options'], version);
  if (v.nameservers !== undefined)
    stringList(p, [...path, 'nameservers'], v.nameservers, (s) =>
      familyOfIp(s) ? null : `${JSON.stringify(s)} is not an IP address`,
    );
  if (v.domain !== undefined && typeof v.domain !== 'string') p.add([...path, 'domain'], 'must be a string');
  if (v.search !== undefined) stringList(p, [...path, 'search'], v.search);
  if (v.options !== undefined) stringList(p, [...path, 'options'], v.options);
}

/** Every way `v` departs from the result shape of `version` (empty when it is exactly right). */
export function resultProblems(v: unknown, version: string): string[] {
  const p = new Problems();
  if (!isSupportedVersion(version)) {
    p.add([], `version ${JSON.stringify(version)} is not one podwire supports`);
    return p.list;
  }
  if (!isObject(v as JsonValue)) {
    p.add([], 'must be a JSON object');
    return p.list;
  }
  const o = v as JsonObject;
  const legacy = version !== '1.0.0';
  onlyKeys(p, [], o, ['cniVersion', 'interfaces', 'ips', 'routes', 'dns'], version);
  if (o.cniVersion !== version)
    p.add(
      ['cniVersion'],
      `must be ${JSON.stringify(version)}, found ${o.cniVersion === undefined ? 'nothing' : JSON.stringify(o.cniVersion)}`,
    );
  let ifaceCount: number | null = null;
  if (o.interfaces !== undefined) {
    if (!Array.isArray(o.interfaces)) p.add(['interfaces'], 'must be a list');
    else {
      ifaceCount = o.interfaces.length;
      o.interfaces.forEach((i, n) => {
        const path = ['interfaces', n];
        if (!isObject(i)) {
          p.add(path, 'must be an object');
          return;
        }
        onlyKeys(p, path, i, ['name', 'mac', 'sandbox'], version);
        if (typeof i.name !== 'string' || i.name === '') p.add([...path, 'name'], 'must be a non-empty string');
        if (i.mac !== undefined && (typeof i.mac !== 'string' || parseMac(i.mac) === null))
          p.add([...path, 'mac'], `${JSON.stringify(i.mac)} is not a MAC address`);
        if (i.sandbox !== undefined && typeof i.sandbox !== 'string') p.add([...path, 'sandbox'], 'must be a string');
      });
    }
  }
  if (o.ips !== undefined) {
    if (!Array.isArray(o.ips)) p.add(['ips'], 'must be a list');
    else
      o.ips.forEach((ip, n) => {
        const path = ['ips', n];
        if (!isObject(ip)) {
          p.add(path, 'must be an object');
          return;
        }
        onlyKeys(
          p,
          path,
          ip,
          legacy ? ['version', 'interface', 'address', 'gateway'] : ['interface', 'address', 'gateway'],
          version,
        );
        const fam = typeof ip.address === 'string' ? familyOfCidr(ip.address) : null;
        if (fam === null)
          p.add([...path, 'address'], `${JSON.stringify(ip.address)} is not an IP address in CIDR notation`);
        if (legacy) {
          if (ip.version !== '4' && ip.version !== '6') p.add([...path, 'version'], 'must be "4" or "6"');
          else if (fam !== null && ip.version !== String(fam))
            p.add([...path, 'version'], `is "${ip.version}" but the address is IPv${fam}`);
        }
        if (ip.gateway !== undefined) {
          const gf = typeof ip.gateway === 'string' ? familyOfIp(ip.gateway) : null;
          if (gf === null) p.add([...path, 'gateway'], `${JSON.stringify(ip.gateway)} is not an IP address`);
          else if (fam !== null && gf !== fam) p.add([...path, 'gateway'], `is IPv${gf} but the address is IPv${fam}`);
        }
        if (ip.interface !== undefined) {
          const idx = ip.interface;
          if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0)
            p.add([...path, 'interface'], 'must be a non-negative integer');
          else if (ifaceCount === null) p.add([...path, 'interface'], `is ${idx} but the result has no interfaces`);
          else if (idx >= ifaceCount)
            p.add([...path, 'interface'], `is ${idx} but the result has ${ifaceCount} interfaces`);
        }
      });
  }
  if (o.routes !== undefined) {
    if (!Array.isArray(o.routes)) p.add(['routes'], 'must be a list');
    else
      o.routes.forEach((r, n) => {
        const path = ['routes', n];
        if (!isObject(r)) {
          p.add(path, 'must be an object');
          return;
        }
        onlyKeys(p, path, r, ['dst', 'gw'], version);
        const fam = typeof r.dst === 'string' ? familyOfCidr(r.dst) : null;
        if (fam === null) p.add([...path, 'dst'], `${JSON.stringify(r.dst)} is not a destination in CIDR notation`);
        if (r.gw !== undefined) {
          const gf = typeof r.gw === 'string' ? familyOfIp(r.gw) : null;
          if (gf === null) p.add([...path, 'gw'], `${JSON.stringify(r.gw)} is not an IP address`);
          else if (fam !== null && gf !== fam) p.add([...path, 'gw'], `is IPv${gf} but dst is IPv${fam}`);
        }
      });
  }
  if (o.dns !== undefined) checkDns(p, ['dns'], o.dns, version);
  return p.list;
}

/** Throws CniError 6 (decoding failure) listing every departure from the result shape of `version`. */
export function validateResult(v: unknown, version: string): void {
  const problems = resultProblems(v, version);
  if (problems.length > 0) throw new CniError(6, `invalid ${version} result`, problems.join('; '));
}

/** Codes 0-99 each version reserves (SPEC.md "Well-known Error Codes"); 100 and above are the plugin's own. */
export const RESERVED_CODES: Record<CniVersion, readonly number[]> = {
  '0.3.0': [1, 2],
  '0.3.1': [1, 2],
  '0.4.0': [1, 2, 3, 11],
  '1.0.0': [1, 2, 3, 4, 5, 6, 7, 11],
};

/** Every way `v` departs from the error object of `version`. */
export function errorObjectProblems(v: unknown, version: string): string[] {
  const p = new Problems();
  if (!isSupportedVersion(version)) {
    p.add([], `version ${JSON.stringify(version)} is not one podwire supports`);
    return p.list;
  }
  if (!isObject(v as JsonValue)) {
    p.add([], 'must be a JSON object');
    return p.list;
  }
  const o = v as JsonObject;
  for (const k of Object.keys(o))
    if (!['cniVersion', 'code', 'msg', 'details'].includes(k)) p.add([k], 'not a field of an error object');
  if (o.cniVersion !== version) p.add(['cniVersion'], `must be ${JSON.stringify(version)}`);
  const code = o.code;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0)
    p.add(['code'], 'must be a non-negative integer');
  else if (code < 100 && !RESERVED_CODES[version].includes(code))
    p.add(['code'], `${code} is reserved and not defined by CNI ${version}`);
  if (typeof o.msg !== 'string') p.add(['msg'], 'must be a string');
  if (o.details !== undefined && typeof o.details !== 'string') p.add(['details'], 'must be a string');
  return p.list;
}

export function validateErrorObject(v: unknown, version: string): void {
  const problems = errorObjectProblems(v, version);
  if (problems.length > 0) throw new CniError(6, `invalid ${version} error object`, problems.join('; '));
}

/** The error object a plugin prints (SPEC.md "Error": cniVersion, code, msg, details), four-space indented. */
export function printError(e: CniError, cniVersion: string): string {
  const o: JsonObject = { cniVersion, code: e.code, msg: e.message };
  if (e.details !== undefined && e.details !== '') o.details = e.details;
  return goMarshalIndent(o);
}
