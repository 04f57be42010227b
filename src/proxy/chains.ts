// kube-proxy's iptables chain names (pkg/proxy/iptables, v1.35/v1.36): the fixed top-level chains, and the
// per-service-port chains KUBE-SVC- (Cluster policy endpoints), KUBE-SVL- (Local policy endpoints), KUBE-EXT-
// (external destinations), KUBE-FW- (loadBalancerSourceRanges) and the per-endpoint KUBE-SEP-, named by the first 16
// characters of the RFC 4648 base32 (standard alphabet) encoding of SHA-256 over `ns/name:port` + lower-case
// protocol (+ `ip:port` for an endpoint). iptables limits chain names to 28 characters; these are at most 25.

import { createHash } from 'node:crypto';

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

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 base32 characters of SHA-256(text): 10 bytes give exactly 16 characters. */
export function hash16(text: string): string {
  const d = createHash('sha256').update(text, 'utf8').digest();
  let out = '';
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | d[i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >>> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
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

/** KUBE-SEP- chain of one endpoint (`endpoint` is `ip:port`). */
export function endpointChain(svcPortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(svcPortName + protocol + endpoint)}`;
}

export function isServiceChainName(name: string): boolean {
  for (const p of SERVICE_CHAIN_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}
