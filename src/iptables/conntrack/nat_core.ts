// NAT bindings (nf_nat_core.c). On a connection's first packet, nf_nat_setup_info turns the range a rule gives
// into a new tuple for the connection and rewrites the entry's reply tuple so replies are recognised: a source
// manip changes where replies go (the reply's destination), a destination manip where they come from (the
// reply's source). get_unique_tuple keeps the tuple unchanged when it is already in range and free; for a source
// manip it reuses the mapping an earlier connection from the same source got (find_appropriate_src), picks the
// address by hashing the tuple (find_best_ips_proto, jhash2 as Linux), and searches the port range from a random
// offset (nf_nat_l4proto_unique_tuple: up to 128 attempts, then smaller rounds), evicting a TIME_WAIT entry in
// the last attempts for a new TCP connection. A packet crossing a nat hook without a rule gets a null binding
// (the identity, unless its source port clashes). When no free tuple exists the last candidate is kept and the
// packet is dropped at confirmation, as in the kernel.

import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ipv4.js';
import type { CtTuple } from '../types.js';
import type { Conn } from './conn.js';
import { DIR_ORIGINAL, DIR_REPLY } from './conn.js';
import type { Conntrack } from './conntrack.js';
import { addrWord, jhash2, reciprocalScale } from './jhash.js';
import {
  type Manip,
  NF_NAT_RANGE_MAP_IPS,
  NF_NAT_RANGE_PERSISTENT,
  NF_NAT_RANGE_PROTO_RANDOM_ALL,
  NF_NAT_RANGE_PROTO_SPECIFIED,
  type NfNatRange,
} from './nat_range.js';
import { sSS, sTW } from './tcp_state.js';
import { copyTuple, hasPorts, invertTuple, srcKey, tupleEqual } from './tuple.js';

const NF_NAT_MAX_ATTEMPTS = 128;
const NF_NAT_HARDER_THRESH = NF_NAT_MAX_ATTEMPTS / 4;

export function natInitialized(conn: Conn, manip: Manip): boolean {
  return manip === 'SRC' ? conn.status.srcNatDone : conn.status.dstNatDone;
}

/** nf_nat_used_tuple: would the connection, mapped to `t`, receive replies another entry already receives? */
function usedTuple(ct: Conntrack, t: CtTuple, ignored: Conn): boolean {
  const reply = invertTuple(t);
  return reply !== null && ct.tupleTaken(reply, ignored);
}

function usesNat(c: Conn): boolean {
  return c.status.srcNat || c.status.dstNat;
}

/** nf_nat_used_tuple_new: as usedTuple, but a UDP flow answered before it was confirmed is not a clash. */
function usedTupleNew(ct: Conntrack, t: CtTuple, ignored: Conn): boolean {
  if (!usedTuple(ct, t, ignored)) return false;
  if (t.proto !== IPPROTO_UDP) return true;
  if (usesNat(ignored)) return true;
  let h = ct.find(t);
  if (!h) {
    const reply = invertTuple(t);
    h = reply ? ct.find(reply) : null;
    if (!h) return false;
  }
  if (h.dir !== DIR_REPLY || usesNat(h.conn)) return true;
  return !(tupleEqual(h.conn.original, ignored.reply) && tupleEqual(h.conn.reply, ignored.original));
}

/** nf_nat_used_tuple_harder: in the last attempts for a new TCP connection, a closed NATed entry may be evicted. */
function usedTupleHarder(ct: Conntrack, t: CtTuple, ignored: Conn, attemptsLeft: number): boolean {
  const reply = invertTuple(t);
  if (!reply) return false;
  if (attemptsLeft > NF_NAT_HARDER_THRESH || t.proto !== IPPROTO_TCP || ignored.tcp?.state !== sSS)
    return ct.tupleTaken(reply, ignored);
  const h = ct.find(reply);
  if (!h) return false;
  if (h.dir === DIR_ORIGINAL || h.conn === ignored) return true;
  const old = h.conn;
  if (!old.tcp || old.tcp.state < sTW || !old.status.srcNat) return true;
  // The new connection's sequence must be past the old one's, so stray old packets are invalid for it.
  const advanced = ((ignored.tcp.seen[0].tdEnd - old.tcp.seen[0].tdEnd) | 0) > 0;
  if (!advanced) return true;
  ct.kill(old);
  return false;
}

/** nf_nat_inet_in_range (source address only: find_appropriate_src and the "already in range" test). */
function inetInRange(t: CtTuple, r: NfNatRange): boolean {
  return t.src >= r.minIp && t.src <= r.maxIp;
}

/** l4proto_in_range: is the manipulable part (port, or ICMP id) within the range? */
function l4InRange(t: CtTuple, manip: Manip, r: NfNatRange): boolean {
  if (t.proto === IPPROTO_ICMP) return t.sport >= r.minPort && t.sport <= r.maxPort;
  if (hasPorts(t.proto)) {
    const port = manip === 'SRC' ? t.sport : t.dport;
    return port >= r.minPort && port <= r.maxPort;
  }
  return true;
}

/** nf_in_range. */
function inRange(t: CtTuple, r: NfNatRange): boolean {
  if (r.flags & NF_NAT_RANGE_MAP_IPS && !inetInRange(t, r)) return false;
  if (!(r.flags & NF_NAT_RANGE_PROTO_SPECIFIED)) return true;
  return l4InRange(t, 'SRC', r);
}

/** find_appropriate_src: the source mapping the newest connection from the same source got, if in range. */
function findAppropriateSrc(ct: Conntrack, orig: CtTuple, r: NfNatRange): CtTuple | null {
  const list = ct.bySource.get(srcKey(orig));
  if (!list) return null;
  const now = ct.now();
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i]!;
    // An unconfirmed entry from an earlier instant belongs to a packet that never made it out.
    if (!c.status.confirmed && c.createdAt < now) continue;
    const o = c.original;
    if (o.proto !== orig.proto || o.src !== orig.src || o.sport !== orig.sport) continue;
    const inv = invertTuple(c.reply);
    if (!inv) continue;
    const result: CtTuple = { proto: orig.proto, src: inv.src, sport: inv.sport, dst: orig.dst, dport: orig.dport };
    if (inRange(result, r)) return result;
  }
  return null;
}

/** find_best_ips_proto: a hash of source and destination picks the address, so a client keeps its mapping. */
function findBestIps(t: CtTuple, r: NfNatRange, manip: Manip): void {
  if (!(r.flags & NF_NAT_RANGE_MAP_IPS)) return;
  let addr: number;
  if (r.minIp === r.maxIp) addr = r.minIp;
  else {
    const j = jhash2([addrWord(t.src), 0, 0, 0], r.flags & NF_NAT_RANGE_PERSISTENT ? 0 : addrWord(t.dst));
    const dist = (r.maxIp - r.minIp + 1) >>> 0;
    addr = (r.minIp + reciprocalScale(j, dist)) >>> 0;
  }
  if (manip === 'SRC') t.src = addr;
  else t.dst = addr;
}

/** nf_nat_l4proto_unique_tuple: search the port (or ICMP id) range for a free tuple. */
function l4UniqueTuple(ct: Conntrack, t: CtTuple, r: NfNatRange, manip: Manip, conn: Conn): void {
  let keyIsSrc: boolean;
  let min: number;
  let rangeSize: number;
  const specified = (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) !== 0;
  if (t.proto === IPPROTO_ICMP) {
    keyIsSrc = true;
    min = specified ? r.minPort : 0;
    rangeSize = specified ? r.maxPort - r.minPort + 1 : 65536;
  } else if (hasPorts(t.proto)) {
    keyIsSrc = manip === 'SRC';
    if (!specified) {
      if (manip === 'DST') return;
      const cur = keyIsSrc ? t.sport : t.dport;
      if (cur < 1024) {
        // Loose convention: ports below 512 stay below 512, 512-1023 map into 600-1023.
        if (cur < 512) {
          min = 1;
          rangeSize = 511;
        } else {
          min = 600;
          rangeSize = 1023 - 600 + 1;
        }
      } else {
        min = 1024;
        rangeSize = 65535 - 1024 + 1;
      }
    } else {
      let lo = r.minPort;
      let hi = r.maxPort;
      if (hi < lo) [lo, hi] = [hi, lo];
      min = lo;
      rangeSize = hi - lo + 1;
    }
  } else {
    return;
  }
  const random = (r.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL) !== 0 || manip !== 'DST';
  let off = random ? ct.rng.int(0, 0xffff) : 0;
  let attempts = Math.min(rangeSize, NF_NAT_MAX_ATTEMPTS);
  for (;;) {
    for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
      const port = min + (off % rangeSize);
      if (keyIsSrc) t.sport = port;
      else t.dport = port;
      if (!usedTupleHarder(ct, t, conn, attempts - i)) return;
    }
    if (attempts >= rangeSize || attempts < 16) return;
    attempts = Math.floor(attempts / 2);
    off = ct.rng.int(0, 0xffff);
  }
}

/** get_unique_tuple. */
function getUniqueTuple(ct: Conntrack, orig: CtTuple, r: NfNatRange, conn: Conn, manip: Manip): CtTuple {
  const randomAll = (r.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL) !== 0;
  if (manip === 'SRC' && !randomAll) {
    if (inRange(orig, r)) {
      if (!usedTupleNew(ct, orig, conn)) return copyTuple(orig);
    } else {
      const mapped = findAppropriateSrc(ct, orig, r);
      if (mapped && !usedTuple(ct, mapped, conn)) return mapped;
    }
  }
  const t = copyTuple(orig);
  findBestIps(t, r, manip);
  if (!randomAll) {
    if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
      if (l4InRange(t, manip, r) && (r.minPort === r.maxPort || !usedTuple(ct, t, conn))) return t;
    } else if (!usedTuple(ct, t, conn)) {
      return t;
    }
  }
  l4UniqueTuple(ct, t, r, manip, conn);
  return t;
}

/** nf_nat_setup_info: bind the unconfirmed connection for one manip type. */
export function natSetupInfo(ct: Conntrack, conn: Conn, r: NfNatRange, manip: Manip): 'accept' | 'drop' {
  if (conn.status.confirmed) return 'accept';
  if (natInitialized(conn, manip)) return 'drop';
  const curr = invertTuple(conn.reply);
  if (!curr) return 'drop';
  const next = getUniqueTuple(ct, curr, r, conn, manip);
  if (!tupleEqual(next, curr)) {
    const reply = invertTuple(next);
    if (!reply) return 'drop';
    conn.reply = reply;
    if (manip === 'SRC') conn.status.srcNat = true;
    else conn.status.dstNat = true;
  }
  if (manip === 'SRC') {
    const key = srcKey(conn.original);
    const list = ct.bySource.get(key);
    if (list) list.push(conn);
    else ct.bySource.set(key, [conn]);
    conn.status.srcNatDone = true;
  } else {
    conn.status.dstNatDone = true;
  }
  return 'accept';
}

/** nf_nat_alloc_null_binding: map to the address the connection already has, letting the port move on a clash. */
export function allocNullBinding(ct: Conntrack, conn: Conn, manip: Manip): 'accept' | 'drop' {
  const ip = manip === 'SRC' ? conn.reply.dst : conn.reply.src;
  return natSetupInfo(ct, conn, { flags: NF_NAT_RANGE_MAP_IPS, minIp: ip, maxIp: ip, minPort: 0, maxPort: 0 }, manip);
}
