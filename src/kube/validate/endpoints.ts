// Hand-written Endpoints and EndpointSlices, validated as ValidateEndpoints and the discovery API's
// ValidateEndpointSlice do: every subset has addresses, each address a valid IP that is not unspecified, loopback
// or link-local, hostnames are RFC 1123 labels, node names subdomains; ports have names when there are several,
// valid numbers and protocols. A slice has a supported addressType (immutable), at most 1000 endpoints of 1-100
// addresses each, IPv4 addresses for IPv4 slices, unique port names.

import type { FieldError, FieldPath } from '../errors.js';
import { fieldErr } from '../errors.js';
import type { EndpointAddress, EndpointPort, EndpointSlice, Endpoints } from '../types.js';
import { validateObjectMeta } from './meta.js';
import {
  endpointIpErrors,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidPortNum,
  nameIsDns1123Subdomain,
  parseIpSloppy,
} from './names.js';
import { isValidIp, PROTOCOLS } from './service.js';

function validateAddress(a: EndpointAddress, path: FieldPath): FieldError[] {
  const errs = isValidIp([...path, 'ip'], a.ip ?? '');
  if (a.hostname)
    for (const m of isDns1123Label(a.hostname)) errs.push(fieldErr.invalid([...path, 'hostname'], a.hostname, m));
  if (a.nodeName !== undefined) {
    for (const m of isDns1123Subdomain(a.nodeName)) errs.push(fieldErr.invalid([...path, 'nodeName'], a.nodeName, m));
  }
  for (const m of endpointIpErrors(a.ip ?? '')) errs.push(fieldErr.invalid([...path, 'ip'], a.ip ?? '', m));
  return errs;
}

function validatePort(p: EndpointPort, requireName: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(fieldErr.required([...path, 'name']));
  else if (p.name) for (const m of isDns1123Label(p.name)) errs.push(fieldErr.invalid([...path, 'name'], p.name, m));
  for (const m of isValidPortNum(p.port ?? 0)) errs.push(fieldErr.invalid([...path, 'port'], p.port ?? 0, m));
  if (!p.protocol) errs.push(fieldErr.required([...path, 'protocol']));
  else if (!(PROTOCOLS as readonly string[]).includes(p.protocol)) {
    errs.push(fieldErr.notSupported([...path, 'protocol'], p.protocol, PROTOCOLS));
  }
  if (p.appProtocol !== undefined) {
    for (const m of isQualifiedName(p.appProtocol))
      errs.push(fieldErr.invalid([...path, 'appProtocol'], p.appProtocol, m));
  }
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, true, nameIsDns1123Subdomain);
  (ep.subsets ?? []).forEach((ss, i) => {
    const p: FieldPath = ['subsets', i];
    if ((ss.addresses?.length ?? 0) === 0 && (ss.notReadyAddresses?.length ?? 0) === 0) {
      errs.push(fieldErr.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    (ss.addresses ?? []).forEach((a, j) => {
      errs.push(...validateAddress(a, [...p, 'addresses', j]));
    });
    (ss.notReadyAddresses ?? []).forEach((a, j) => {
      errs.push(...validateAddress(a, [...p, 'notReadyAddresses', j]));
    });
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      errs.push(...validatePort(port, ports.length > 1, [...p, 'ports', j]));
    });
  });
  return errs;
}

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

export function validateEndpointSlice(s: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(s.metadata, true, nameIsDns1123Subdomain);
  if (!s.addressType) errs.push(fieldErr.required(['addressType']));
  else if (!ADDRESS_TYPES.includes(s.addressType))
    errs.push(fieldErr.notSupported(['addressType'], s.addressType, ADDRESS_TYPES));
  const eps = s.endpoints ?? [];
  if (eps.length > 1000) errs.push(fieldErr.tooMany(['endpoints'], eps.length, 1000));
  else {
    eps.forEach((ep, i) => {
      const ap: FieldPath = ['endpoints', i, 'addresses'];
      const addrs = ep.addresses ?? [];
      if (addrs.length === 0) errs.push(fieldErr.required(ap, 'must contain at least 1 address'));
      else if (addrs.length > 100) errs.push(fieldErr.tooMany(ap, addrs.length, 100));
      addrs.forEach((a, j) => {
        if (s.addressType === 'IPv4' || s.addressType === 'IPv6') {
          const fam = parseIpSloppy(a)?.family;
          const want = s.addressType === 'IPv4' ? 4 : 6;
          if (fam !== want) errs.push(fieldErr.invalid([...ap, j], a, `must be a valid ${s.addressType} address`));
          else for (const m of endpointIpErrors(a)) errs.push(fieldErr.invalid([...ap, j], a, m));
        }
      });
      if (ep.nodeName !== undefined) {
        for (const m of isDns1123Subdomain(ep.nodeName))
          errs.push(fieldErr.invalid(['endpoints', i, 'nodeName'], ep.nodeName, m));
      }
      if (ep.hostname !== undefined) {
        for (const m of isDns1123Label(ep.hostname))
          errs.push(fieldErr.invalid(['endpoints', i, 'hostname'], ep.hostname, m));
      }
    });
  }
  const names = new Set<string>();
  (s.ports ?? []).forEach((p, i) => {
    const pp: FieldPath = ['ports', i];
    const name = p.name ?? '';
    if (name) for (const m of isDns1123Label(name)) errs.push(fieldErr.invalid([...pp, 'name'], name, m));
    if (names.has(name)) errs.push(fieldErr.duplicate([...pp, 'name'], name));
    else names.add(name);
    if (!p.protocol) errs.push(fieldErr.required([...pp, 'protocol']));
    else if (!(PROTOCOLS as readonly string[]).includes(p.protocol)) {
      errs.push(fieldErr.notSupported([...pp, 'protocol'], p.protocol, PROTOCOLS));
    }
    if (p.port !== undefined)
      for (const m of isValidPortNum(p.port)) errs.push(fieldErr.invalid([...pp, 'port'], p.port, m));
    if (p.appProtocol !== undefined) {
      for (const m of isQualifiedName(p.appProtocol))
        errs.push(fieldErr.invalid([...pp, 'appProtocol'], p.appProtocol, m));
    }
  });
  return errs;
}

export function validateEndpointSliceUpdate(s: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs =
    s.addressType !== old.addressType ? [fieldErr.invalid(['addressType'], s.addressType, 'field is immutable')] : [];
  return [...errs, ...validateEndpointSlice(s)];
}
