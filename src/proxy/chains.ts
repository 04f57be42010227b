// kube-proxy's iptables chain names (pkg/proxy/iptables, v1.35/v1.36): the fixed top-level chains, and the
// per-service-port chains KUBE-SVC- (Cluster policy endpoints), KUBE-SVL- (Local policy endpoints), KUBE-EXT-
// (external destinations), KUBE-FW- (loadBalancerSourceRanges) and the per-endpoint KUBE-SEP-, named by the first 16
// characters of the RFC 4648 base32 (standard alphabet) encoding of SHA-256 over `ns/name:port` + lower-case
// protocol (+ `ip:port` for an endpoint). iptables limits chain names to 28 characters; these are at most 25.

import * as nodeCrypto from 'node:crypto';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';
/** The anti-martian chain kubelet used to own; kube-proxy keeps an identical copy. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

/** Prefixes of the chains kube-proxy may delete as stale (isServiceChainName). */
export const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'] as const;

const B32 = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', (c) => c.charCodeAt(0));

/**
 * SHA-256 of the UTF-8 text as a latin1 string (one character per byte). A chain name is hashed for every
 * endpoint, so the one-shot `crypto.hash` (Node 20.12+) is preferred over a Hash object per call.
 */
const sha256Latin1: (text: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (text) => nodeCrypto.hash('sha256', text, 'binary')
    : (text) => nodeCrypto.createHash('sha256').update(text, 'utf8').digest('binary');

/** Writes the first 16 base32 characters of SHA-256(text) (10 bytes give exactly 16) into `out` from `at`. */
function fillHash16(text: string, out: number[], at: number): void {
  const d = sha256Latin1(text);
  let k = at;
  for (let i = 0; i < 10; i += 5) {
    const b0 = d.charCodeAt(i);
    const b1 = d.charCodeAt(i + 1);
    const b2 = d.charCodeAt(i + 2);
    const b3 = d.charCodeAt(i + 3);
    const b4 = d.charCodeAt(i + 4);
    out[k++] = B32[b0 >>> 3]!;
    out[k++] = B32[((b0 & 7) << 2) | (b1 >>> 6)]!;
    out[k++] = B32[(b1 >>> 1) & 31]!;
    out[k++] = B32[((b1 & 1) << 4) | (b2 >>> 4)]!;
    out[k++] = B32[((b2 & 15) << 1) | (b3 >>> 7)]!;
    out[k++] = B32[(b3 >>> 2) & 31]!;
    out[k++] = B32[((b3 & 3) << 3) | (b4 >>> 5)]!;
    out[k++] = B32[b4 & 31]!;
  }
}

const digest = new Array<number>(16).fill(0);

/** The first 16 base32 characters of SHA-256(text). */
export function hash16(input: string): string {
  fillHash16(input, digest, 0);
  return String.fromCharCode.apply(null, digest);
}

export interface ServiceChains {
  cluster: string;
  local: string;
  firewall: string;
  external: string;
}

/** The four chains of one service port; `protocol` is lower case (`tcp`). */
export function serviceChains(svcPortName: string, protocol: string): ServiceChains {
  const h = hash16(svcPortName + protocol);
  return { cluster: `KUBE-SVC-${h}`, local: `KUBE-SVL-${h}`, firewall: `KUBE-FW-${h}`, external: `KUBE-EXT-${h}` };
}

/** `KUBE-SEP-` and room for the hash: endpoint chains are made by the hundred thousand, each as one string. */
const sepName = [...Array.from('KUBE-SEP-', (c) => c.charCodeAt(0)), ...digest];

/** KUBE-SEP- chain of one endpoint (`endpoint` is `ip:port`). */
export function endpointChain(svcPortName: string, protocol: string, endpoint: string): string {
  fillHash16(svcPortName + protocol + endpoint, sepName, 9);
  return String.fromCharCode.apply(null, sepName);
}

export function isServiceChainName(name: string): boolean {
  for (const p of SERVICE_CHAIN_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}
