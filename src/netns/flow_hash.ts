// Flow hashing as UDP tunnels use it (include/net/udp.h udp_flow_src_port, net/core/flow_dissector.c): the source
// port of an encapsulated packet is skb->hash scaled into a port range. A packet a socket built carries that
// socket's random sk_txhash; for anything else (forwarded traffic, ICMP the kernel builds, a TCP RST) the flow
// dissector hashes the inner IPv4 addresses, protocol and TCP/UDP ports with a per-boot random seed
// (net_get_random_once, drawn here from the kernel's seeded PRNG the first time it is needed). The dissector makes
// the key symmetric before hashing (__flow_hash_consistentify: lower address first, ports swapped along), so a
// request and its reply leave with the same source port. ICMP is hashed without its id, and fragments without
// ports (the dissector does not look past a fragment's IP header), as real captures show (VXLAN-NOTES.md).
// Limits: the kernel's keyed SipHash is replaced by a 32-bit mix of the same fields, so port values differ from
// Linux's while keeping every property above; no VLAN tags, IPv6 or flow labels.

import { readU16, readU32 } from '../wire/addr.js';
import { ETH_HLEN, ETH_P_IP } from '../wire/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipv4.js';
import type { Kernel } from './kernel.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

const seeds = new WeakMap<Kernel, number>();

/** hashrnd: one random key per kernel, drawn on first use like net_get_random_once. */
function flowSeed(k: Kernel): number {
  let s = seeds.get(k);
  if (s === undefined) {
    s = k.rng.u32();
    seeds.set(k, s);
  }
  return s;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** One 32-bit word into the running hash (a MurmurHash3-style block step). */
function mixWord(h: number, w: number): number {
  let k = Math.imul(w | 0, 0xcc9e2d51);
  k = Math.imul(rotl(k, 15), 0x1b873593);
  const x = rotl(h ^ k, 13);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

/** Final avalanche, so that nearby keys give unrelated hashes. */
function finish(h: number, len: number): number {
  let x = h ^ len;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A 32-bit hash of `words` under `seed`; never 0 (the kernel maps a zero hash to 1: 0 means "no hash"). */
export function hashWords(seed: number, words: readonly number[]): number {
  let h = seed | 0;
  for (const w of words) h = mixWord(h, w);
  const r = finish(h, words.length * 4);
  return r === 0 ? 1 : r;
}

/**
 * __skb_get_hash on a frame whose Ethernet header starts at skb.head: the symmetric flow key of an IPv4 packet
 * (addresses, protocol, and ports for an unfragmented TCP/UDP packet), or only the ethertype for anything else.
 */
export function flowDissectHash(k: Kernel, skb: Skb): number {
  const b = skb.buf;
  const h = skb.head;
  const seed = flowSeed(k);
  if (skb.end - h < ETH_HLEN + 2) return hashWords(seed, [0]);
  const proto = readU16(b, h + 12);
  const nh = h + ETH_HLEN;
  if (proto !== ETH_P_IP || skb.end - nh < 20) return hashWords(seed, [proto]);
  const ihl = (b[nh]! & 0x0f) * 4;
  const ipProto = b[nh + 9]!;
  let src = readU32(b, nh + 12);
  let dst = readU32(b, nh + 16);
  const fragment = (readU16(b, nh + 6) & 0x3fff) !== 0;
  let sport = 0;
  let dport = 0;
  if (!fragment && (ipProto === IPPROTO_TCP || ipProto === IPPROTO_UDP) && skb.end - nh >= ihl + 4) {
    sport = readU16(b, nh + ihl);
    dport = readU16(b, nh + ihl + 2);
  }
  // __flow_hash_consistentify: order the endpoints so both directions of a flow give one key.
  if (dst < src || (dst === src && dport < sport)) {
    [src, dst] = [dst, src];
    [sport, dport] = [dport, sport];
  }
  return hashWords(seed, [(proto << 16) | ipProto, src, dst, ((sport << 16) | dport) >>> 0]);
}

/** skb_get_hash: the packet's hash, computed by the dissector (and remembered) when no socket set one. */
export function skbGetHash(k: Kernel, skb: Skb): number {
  if (skb.hash === 0) skb.hash = flowDissectHash(k, skb);
  return skb.hash;
}

/**
 * udp_flow_src_port: the hash scaled into [min, max) — or into ip_local_port_range of `ns` when min >= max
 * (`srcport 0 0`, the default). The hash is folded (hash ^= hash << 16) first, as the kernel does, because only
 * its upper half decides the port.
 */
export function udpFlowSrcPort(ns: NetNs, skb: Skb, min: number, max: number): number {
  let lo = min;
  let hi = max;
  if (lo >= hi) [lo, hi] = ns.sysctl.ipLocalPortRange;
  const h = skbGetHash(ns.kernel, skb);
  const hash = (h ^ (h << 16)) >>> 0;
  return Math.floor((hash * (hi - lo)) / 0x100000000) + lo;
}

/**
 * A socket's sk_txhash (net_tx_rndhash): random per connection and never 0. Derived from two values the socket
 * already drew from the seeded PRNG, so that adding it does not shift any later random draw of a run.
 */
export function socketTxHash(a: number, b: number): number {
  return hashWords(a, [b, 0x74786873]);
}
