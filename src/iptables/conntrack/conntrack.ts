// The connection tracking table of one namespace (nf_conntrack_core.c). `inPacket` is nf_conntrack_in, run at
// PREROUTING and OUTPUT: it extracts the tuple from the bytes, resolves ICMP errors to the connection they quote
// (RELATED), finds the entry by either tuple or creates an unconfirmed one (NEW), lets the protocol tracker
// judge the packet (INVALID when it refuses), and attaches entry, direction and state to the packet. `confirm`
// is nf_conntrack_confirm at the end of POSTROUTING and INPUT: it inserts the new entry under both tuples, or
// drops the packet when another entry already holds one of them (after NAT picked a taken tuple). Timeouts run
// in virtual time; an expired entry is removed when a lookup meets it or at `gc` (the kernel's gc worker).
// Limits: no zones, helpers, expectations or per-rule timeout policies; a clash at confirm is resolved only for
// the same UDP flow seen twice (nf_ct_resolve_clash's merge case), otherwise the packet is dropped.

import type { NfHook } from '../../netns/hooks.js';
import type { NetDev } from '../../netns/netdev.js';
import type { Skb } from '../../netns/skb.js';
import type { Nanos } from '../../sim/events.js';
import { NS_PER_S } from '../../sim/events.js';
import type { Rng } from '../../sim/rng.js';
import { icmpIsError } from '../../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipDst, ipSrc, ipTotalLen } from '../../wire/ipv4.js';
import type { CtDir, CtState, CtTuple, NatKind, NatRange } from '../types.js';
import { Conn, DIR_ORIGINAL, DIR_REPLY, type DirIndex } from './conn.js';
import { type CtFilter, ctFilterMatches } from './filter.js';
import { icmpPacket, icmpPrecheck } from './icmp.js';
import { type NatPacketResult, natPacket, natRulesWanted } from './nat_hook.js';
import { type NatSetupCtx, setupNat } from './nat_target.js';
import './skb_ext.js';
import { type TcpTrackerEnv, type TrackVerdict, tcpPacket } from './tcp.js';
import { type CtTimeouts, DEFAULT_TIMEOUTS, secs } from './timeouts.js';
import { invertTuple, ipv4L4, type L4Location, pktToTuple, srcKey, tupleEqual, tupleKey } from './tuple.js';
import { udpPacket } from './udp.js';

export interface ConntrackOptions {
  /** The virtual clock. */
  now: () => Nanos;
  /** Source of the NAT port search's random offsets (get_random_u16). */
  rng: Rng;
  timeouts?: Partial<CtTimeouts>;
  /** net.netfilter.nf_conntrack_tcp_loose (default 1). */
  tcpLoose?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal (default 0). */
  tcpBeLiberal?: boolean;
  /** net.netfilter.nf_conntrack_checksum (default 1): verify checksums at PREROUTING. */
  checksum?: boolean;
  /** net.netfilter.nf_conntrack_tcp_max_retrans (default 3). */
  tcpMaxRetrans?: number;
}

/** What nf_conntrack_in decided for one packet. */
export interface CtResult {
  ct: Conn | null;
  state: CtState;
  dir: CtDir;
  /** This packet created the entry (unconfirmed until `confirm`). */
  isNew: boolean;
  /** Why the packet is INVALID (the kernel's nf_ct_l4proto_log_invalid text). */
  reason?: string;
}

export interface Lookup {
  conn: Conn;
  dir: DirIndex;
}

export class Conntrack {
  readonly now: () => Nanos;
  readonly rng: Rng;
  readonly timeouts: CtTimeouts;
  tcpLoose: boolean;
  tcpBeLiberal: boolean;
  checksum: boolean;
  tcpMaxRetrans: number;
  /** Counters in the spirit of `conntrack -S`. */
  readonly stats = { found: 0, invalid: 0, insert: 0, insertFailed: 0, clashResolve: 0 };
  /** nf_nat_bysource: entries with a source manip set up, by original source (proto/address/port). */
  readonly bySource = new Map<string, Conn[]>();

  private readonly hash = new Map<string, Lookup>();
  /** Confirmed entries in insertion order (the order `conntrack -L` lists them here). */
  private readonly table = new Set<Conn>();
  private nextId = 1;
  private sinceGc = 0;
  private readonly trackerEnv: TcpTrackerEnv;

  constructor(opts: ConntrackOptions) {
    this.now = opts.now;
    this.rng = opts.rng;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.tcpLoose = opts.tcpLoose ?? true;
    this.tcpBeLiberal = opts.tcpBeLiberal ?? false;
    this.checksum = opts.checksum ?? true;
    this.tcpMaxRetrans = opts.tcpMaxRetrans ?? 3;
    this.trackerEnv = new TrackerEnv(this);
  }

  /**
   * nf_conntrack_in for the IPv4 packet at `nh` at `hook` (PREROUTING or OUTPUT). The result is also attached to
   * `skb.ext` (ct, ctDir, ctState). A packet that already carries this table's verdict (looped back, or marked
   * NOTRACK in the raw table) keeps it.
   */
  inPacket(skb: Skb, nh: number, hook: NfHook, _inDev: NetDev | null = null): CtResult {
    const ext = skb.ext;
    if (ext.ctTable === this) {
      if (ext.ctState === 'UNTRACKED') return { ct: null, state: 'UNTRACKED', dir: 'ORIGINAL', isNew: false };
      if (ext.ct) return { ct: ext.ct, state: ext.ctState ?? 'NEW', dir: ext.ctDir ?? 'ORIGINAL', isNew: false };
    }
    const b = skb.buf;
    const end = Math.min(skb.end, nh + ipTotalLen(b, nh));
    const l4 = ipv4L4(b, nh, end);
    if (!l4) return this.invalid(skb, 'fragment or truncated header');
    const verify = this.checksum && hook === 'PREROUTING';
    if (l4.proto === IPPROTO_ICMP) {
      const bad = icmpPrecheck(b, l4.dataoff, end - l4.dataoff, verify);
      if (bad) return this.invalid(skb, bad);
      if (icmpIsError(b[l4.dataoff]!)) return this.icmpError(skb, b, nh, l4.dataoff, end);
    }
    // At most one retry: the TCP tracker deletes a closed entry that a new SYN reopens, then we look up again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const tuple = pktToTuple(b, nh, l4, end);
      if (!tuple) return this.invalid(skb, 'truncated transport header');
      let conn: Conn;
      let dir: DirIndex;
      let isNew = false;
      const found = this.find(tuple);
      if (found) {
        this.stats.found++;
        conn = found.conn;
        dir = found.dir;
      } else {
        const reply = invertTuple(tuple);
        if (!reply) return this.invalid(skb, 'no reverse tuple');
        conn = new Conn(this.nextId++, tuple, reply, this.now());
        dir = DIR_ORIGINAL;
        isNew = true;
      }
      const v = this.track(conn, dir, b, nh, l4, end, verify);
      if (v.v === 'repeat') continue;
      if (v.v === 'invalid') return this.invalid(skb, v.why);
      const state: CtState = dir === DIR_REPLY || conn.status.seenReply ? 'ESTABLISHED' : 'NEW';
      if (dir === DIR_REPLY) conn.status.seenReply = true;
      const ctDir: CtDir = dir === DIR_REPLY ? 'REPLY' : 'ORIGINAL';
      this.attach(skb, conn, state, ctDir);
      return { ct: conn, state, dir: ctDir, isNew };
    }
    return this.invalid(skb, 'tcp reopen did not settle');
  }

  /**
   * nf_conntrack_confirm: inserts the packet's unconfirmed entry into the table. 'drop' when a tuple of it is
   * already taken (the insert_failed case).
   */
  confirm(skb: Skb): 'accept' | 'drop' {
    const ext = skb.ext;
    if (ext.ctTable !== this || !ext.ct) return 'accept';
    const conn = ext.ct;
    if (conn.status.confirmed) return 'accept';
    // A packet attached in the reply direction (REJECT's answer) never confirms the entry it refers to.
    if (ext.ctDir === 'REPLY') return 'accept';
    if (conn.dying) {
      this.stats.insertFailed++;
      return 'drop';
    }
    const clash = this.find(conn.original) ?? this.find(conn.reply);
    if (clash) {
      const other = clash.conn;
      if (
        conn.original.proto === IPPROTO_UDP &&
        tupleEqual(other.original, conn.original) &&
        tupleEqual(other.reply, conn.reply)
      ) {
        // The same flow was created twice before either was confirmed: the packet joins the existing entry.
        this.stats.clashResolve++;
        this.forget(conn);
        this.attach(skb, other, ext.ctState ?? 'NEW', 'ORIGINAL');
        return 'accept';
      }
      this.stats.insertFailed++;
      this.forget(conn);
      return 'drop';
    }
    conn.status.confirmed = true;
    this.hash.set(tupleKey(conn.reply), { conn, dir: DIR_REPLY });
    this.hash.set(tupleKey(conn.original), { conn, dir: DIR_ORIGINAL });
    this.table.add(conn);
    this.stats.insert++;
    if (++this.sinceGc >= 4096) this.gc();
    return 'accept';
  }

  /** NOTRACK / CT --notrack in the raw table: the packet is UNTRACKED and conntrack leaves it alone. */
  setUntracked(skb: Skb): void {
    skb.ext.ctTable = this;
    skb.ext.ct = undefined;
    skb.ext.ctState = 'UNTRACKED';
    skb.ext.ctDir = 'ORIGINAL';
  }

  /**
   * nf_ct_attach: a packet the stack generates about `cause` (an ICMP error, REJECT's RST) is RELATED to the
   * same connection, in the opposite direction, so NAT translates it back.
   */
  attachRelated(nskb: Skb, cause: Skb): void {
    const ext = cause.ext;
    if (ext.ctTable !== this || !ext.ct) return;
    this.attach(nskb, ext.ct, 'RELATED', ext.ctDir === 'REPLY' ? 'ORIGINAL' : 'REPLY');
  }

  /**
   * The packet is freed without reaching `confirm` (dropped by a rule, no route…): its unconfirmed entry goes
   * with it, as when the kernel frees the last reference.
   */
  release(skb: Skb): void {
    const ext = skb.ext;
    if (ext.ctTable !== this || !ext.ct) return;
    const conn = ext.ct;
    if (!conn.status.confirmed && ext.ctDir === 'ORIGINAL' && ext.ctState !== 'RELATED') this.forget(conn);
  }

  /** The entry holding `tuple` (in either direction), removing it first if it has expired. */
  find(tuple: CtTuple): Lookup | null {
    const h = this.hash.get(tupleKey(tuple));
    if (!h) return null;
    if (h.conn.expired(this.now())) {
      this.kill(h.conn);
      return null;
    }
    return h;
  }

  /**
   * nf_conntrack_tuple_taken: another live entry holds `tuple` — unless it is the same flow (identical original
   * tuple), which the insertion then resolves.
   */
  tupleTaken(tuple: CtTuple, ignored: Conn | null): boolean {
    const h = this.find(tuple);
    if (!h || h.conn === ignored) return false;
    if (ignored && tupleEqual(ignored.original, h.conn.original)) return false;
    return true;
  }

  /** nf_ct_kill / nf_ct_delete: removes the entry from the table; false when it was already gone. */
  kill(conn: Conn): boolean {
    if (conn.dying) return false;
    this.forget(conn);
    if (conn.status.confirmed) {
      const o = tupleKey(conn.original);
      const r = tupleKey(conn.reply);
      if (this.hash.get(o)?.conn === conn) this.hash.delete(o);
      if (this.hash.get(r)?.conn === conn) this.hash.delete(r);
      this.table.delete(conn);
    }
    return true;
  }

  /** Removes every expired entry (the gc worker); returns how many. */
  gc(): number {
    this.sinceGc = 0;
    const now = this.now();
    let n = 0;
    for (const c of [...this.table]) {
      if (c.expired(now) && this.kill(c)) n++;
    }
    return n;
  }

  /** Live confirmed entries, oldest first. */
  entries(): Conn[] {
    this.gc();
    return [...this.table];
  }

  /** nf_conntrack_count (confirmed, unexpired). */
  count(): number {
    this.gc();
    return this.table.size;
  }

  /** `conntrack -F`: deletes every entry; returns how many. */
  flush(): number {
    const all = [...this.table];
    for (const c of all) this.kill(c);
    return all.length;
  }

  /** `conntrack -D` with filters: deletes and returns the matching entries. */
  deleteWhere(filter: CtFilter): Conn[] {
    const out: Conn[] = [];
    for (const c of this.entries()) {
      if (ctFilterMatches(c, filter)) {
        this.kill(c);
        out.push(c);
      }
    }
    return out;
  }

  /** `conntrack -L` with filters. */
  listWhere(filter: CtFilter): Conn[] {
    return this.entries().filter((c) => ctFilterMatches(c, filter));
  }

  /** The masquerade notifier: a device going down takes the entries masqueraded through it. */
  flushMasquerade(ifindex: number): number {
    let n = 0;
    for (const c of [...this.table]) if (c.masqIndex === ifindex && this.kill(c)) n++;
    return n;
  }

  /** NAT target (DNAT/SNAT/MASQUERADE/REDIRECT) on a connection's first packet; see nat_target.ts. */
  setupNat(conn: Conn, kind: NatKind, range: NatRange, ctx: NatSetupCtx): 'accept' | 'drop' {
    return setupNat(this, conn, kind, range, ctx);
  }

  /** Whether the nat table's chain must be traversed for this packet at this hook (nf_nat_inet_fn). */
  natRulesWanted(skb: Skb, hook: NfHook): boolean {
    return natRulesWanted(this, skb, hook);
  }

  /** nf_nat_ipv4_fn after the nat table: null binding if needed, then the rewrite of this packet. */
  natPacket(skb: Skb, hook: NfHook, outDev: NetDev | null = null): NatPacketResult {
    return natPacket(this, skb, hook, outDev);
  }

  refresh(conn: Conn, seconds: number): void {
    conn.timeoutAt = this.now() + secs(seconds);
  }

  /** Drops an unconfirmed or deleted entry from the NAT source index. */
  private forget(conn: Conn): void {
    conn.dying = true;
    if (!conn.status.srcNatDone) return;
    const key = srcKey(conn.original);
    const list = this.bySource.get(key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bySource.delete(key);
  }

  private attach(skb: Skb, conn: Conn, state: CtState, dir: CtDir): void {
    skb.ext.ctTable = this;
    skb.ext.ct = conn;
    skb.ext.ctState = state;
    skb.ext.ctDir = dir;
  }

  private invalid(skb: Skb, reason: string): CtResult {
    this.stats.invalid++;
    skb.ext.ctTable = this;
    skb.ext.ct = undefined;
    skb.ext.ctState = 'INVALID';
    skb.ext.ctDir = 'ORIGINAL';
    return { ct: null, state: 'INVALID', dir: 'ORIGINAL', isNew: false, reason };
  }

  /** nf_conntrack_inet_error: RELATED when the quoted packet belongs to a connection and went where it says. */
  private icmpError(skb: Skb, b: Uint8Array, nh: number, th: number, end: number): CtResult {
    const inner = th + 8;
    const l4 = ipv4L4(b, inner, end);
    if (!l4) return this.invalid(skb, 'icmp error: no inner header');
    const quoted = pktToTuple(b, inner, l4, end);
    if (!quoted) return this.invalid(skb, 'icmp error: truncated inner header');
    // The quoted packet travelled the other way: its inverse is what the table holds.
    const lookFor = invertTuple(quoted);
    if (!lookFor) return this.invalid(skb, 'icmp error: inner tuple has no inverse');
    const h = this.find(lookFor);
    if (!h) return this.invalid(skb, 'icmp error: no connection for the quoted packet');
    const ctDaddr = h.conn.tuple(h.dir).dst;
    if (ipDst(b, nh) !== ctDaddr) return this.invalid(skb, 'icmp error: outer daddr != inner');
    const dir: CtDir = h.dir === DIR_REPLY ? 'REPLY' : 'ORIGINAL';
    this.attach(skb, h.conn, 'RELATED', dir);
    return { ct: h.conn, state: 'RELATED', dir, isNew: false };
  }

  private track(
    conn: Conn,
    dir: DirIndex,
    b: Uint8Array,
    nh: number,
    l4: L4Location,
    end: number,
    verify: boolean,
  ): TrackVerdict {
    const len = end - l4.dataoff;
    const csum = verify ? { src: ipSrc(b, nh), dst: ipDst(b, nh) } : null;
    switch (l4.proto) {
      case IPPROTO_TCP:
        return tcpPacket(conn, dir, b, l4.dataoff, len, csum, this.trackerEnv);
      case IPPROTO_UDP:
        return udpPacket(conn, b, l4.dataoff, len, csum, {
          now: this.now(),
          timeouts: this.timeouts,
          refresh: (c, s) => this.refresh(c, s),
        });
      case IPPROTO_ICMP:
        return icmpPacket(conn, this.trackerEnv);
      default:
        this.refresh(conn, this.timeouts.generic);
        return { v: 'accept' };
    }
  }
}

/** The tracker's view of the table's sysctls and clock. */
class TrackerEnv implements TcpTrackerEnv {
  constructor(private readonly ct: Conntrack) {}

  get timeouts(): CtTimeouts {
    return this.ct.timeouts;
  }

  get loose(): boolean {
    return this.ct.tcpLoose;
  }

  get beLiberal(): boolean {
    return this.ct.tcpBeLiberal;
  }

  get maxRetrans(): number {
    return this.ct.tcpMaxRetrans;
  }

  expiresIn(conn: Conn): number {
    return Math.max(0, Math.floor((conn.timeoutAt - this.ct.now()) / NS_PER_S));
  }

  refresh(conn: Conn, seconds: number): void {
    this.ct.refresh(conn, seconds);
  }

  kill(conn: Conn): void {
    this.ct.kill(conn);
  }
}
