// The TCP connection tracker (nf_conntrack_proto_tcp.c): tcp_error rejects truncated headers, bad checksums (at
// PREROUTING, net.netfilter.nf_conntrack_checksum=1) and impossible flag combinations; tcp_new starts an entry on
// a SYN, or — with nf_conntrack_tcp_loose=1, the default — picks up a connection from any ACK segment, trusting
// its window liberally; tcp_packet moves the state through the transition table, handles the special cases the
// kernel handles (a SYN reopening a TIME_WAIT/CLOSE entry, SYN/ACK resynchronisation after an ignored SYN, RFC 5961
// challenge ACKs, RSTs that do not match the sequence), checks the window, sets ASSURED when the handshake
// completes, deletes an entry whose only answer is a RST, and picks the timeout (shorter while data is unacked).
// Limit: no SYN proxy, no conntrack helpers.

import { tcpChecksumOk } from '../../wire/tcp.js';
import type { Conn } from './conn.js';
import {
  F_BE_LIBERAL,
  F_CLOSE_INIT,
  F_DATA_UNACKNOWLEDGED,
  F_EXP_CHALLENGE_ACK,
  F_MAXACK_SET,
  F_SACK_PERM,
  F_SIMULTANEOUS_OPEN,
  F_WINDOW_SCALE,
  newTcpCt,
  newTcpSide,
  nextTcpState,
  sCL,
  sCW,
  sES,
  sFW,
  sIG,
  sIV,
  sLA,
  sNO,
  sS2,
  sSR,
  sSS,
  sTW,
  TCP_ACK_SET,
  TCP_FIN_SET,
  TCP_RST_SET,
  TCP_STATE_NAMES,
  TCP_SYN_SET,
  TCP_SYNACK_SET,
  type TcpSide,
  tcpIndex,
} from './tcp_state.js';
import { before, readTcpSeg, segmentEnd, type TcpSeg, tcpInWindow, tcpOptions } from './tcp_window.js';
import type { CtTimeouts } from './timeouts.js';

export interface TcpTrackerEnv {
  timeouts: CtTimeouts;
  /** nf_conntrack_tcp_loose. */
  loose: boolean;
  /** nf_conntrack_tcp_be_liberal. */
  beLiberal: boolean;
  /** nf_conntrack_tcp_max_retrans. */
  maxRetrans: number;
  /** Remaining lifetime of the entry, in seconds (nf_ct_expires / HZ). */
  expiresIn(conn: Conn): number;
  refresh(conn: Conn, seconds: number): void;
  kill(conn: Conn): void;
}

/** accept: tracked (maybe ignored without a state change); invalid: INVALID, entry unchanged; repeat: look up again. */
export type TrackVerdict = { v: 'accept' } | { v: 'invalid'; why: string } | { v: 'repeat' };

// Valid combinations of FIN SYN RST ACK URG once PSH, ECE and CWR are ignored (tcp_valid_flags).
const VALID_FLAGS = new Set([0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30]);

/** tcp_error: null when the segment may be tracked, else the reason it is INVALID. */
export function tcpError(
  b: Uint8Array,
  th: number,
  tcplen: number,
  checksum: { src: number; dst: number } | null,
): string | null {
  if (tcplen < 20) return 'truncated packet';
  const doff = (b[th + 12]! >> 4) * 4;
  if (doff < 20 || tcplen < doff) return 'truncated packet';
  if (checksum && !tcpChecksumOk(b, th, tcplen, checksum.src, checksum.dst)) return 'bad checksum';
  if (!VALID_FLAGS.has(b[th + 13]! & ~(0x40 | 0x80 | 0x08))) return 'invalid tcp flag combination';
  return null;
}

function timeoutOf(T: CtTimeouts, state: number): number {
  switch (state) {
    case sSS:
      return T.tcpSynSent;
    case sSR:
      return T.tcpSynRecv;
    case sES:
      return T.tcpEstablished;
    case sFW:
      return T.tcpFinWait;
    case sCW:
      return T.tcpCloseWait;
    case sLA:
      return T.tcpLastAck;
    case sTW:
      return T.tcpTimeWait;
    case sCL:
      return T.tcpClose;
    case sS2:
      return T.tcpSynSent2;
    default:
      return T.tcpSynSent;
  }
}

/** tcp_new: false when the first segment cannot start an entry. */
function tcpNew(conn: Conn, seg: TcpSeg, loose: boolean): boolean {
  const first = nextTcpState(0, tcpIndex(seg.flags), sNO);
  if (first === sIV) return false;
  const t = newTcpCt();
  const s = t.seen[0];
  s.tdEnd = segmentEnd(seg);
  s.tdMaxwin = seg.win === 0 ? 1 : seg.win;
  if (first === sSS) {
    s.tdMaxend = s.tdEnd;
    tcpOptions(seg, s);
  } else {
    if (!loose) return false;
    s.tdMaxend = (s.tdEnd + s.tdMaxwin) >>> 0;
    // History lost: assume SACK and check windows liberally.
    s.flags = F_SACK_PERM | F_BE_LIBERAL;
    t.seen[1].flags = F_SACK_PERM | F_BE_LIBERAL;
  }
  t.lastIndex = 5;
  conn.tcp = t;
  return true;
}

function resetSide(s: TcpSide): void {
  const keep = s.flags & F_BE_LIBERAL;
  Object.assign(s, newTcpSide());
  s.flags = keep;
}

function established(conn: Conn): boolean {
  return conn.tcp!.state === sES && conn.status.assured;
}

function canEarlyDrop(state: number): boolean {
  return state === sFW || state === sLA || state === sTW || state === sCL || state === sCW;
}

/** nf_tcp_handle_invalid: an assured entry answered by out-of-window FIN/RST from both sides gets a short timer. */
function handleInvalid(conn: Conn, dir: 0 | 1, index: number, env: TcpTrackerEnv): void {
  const t = conn.tcp!;
  if (!conn.status.assured) return;
  if (index !== TCP_RST_SET && index !== TCP_FIN_SET) return;
  if (t.lastDir !== dir && (t.lastIndex === TCP_FIN_SET || t.lastIndex === TCP_RST_SET)) {
    const expires = env.expiresIn(conn);
    if (expires < 120) return;
    if (expires > env.timeouts.tcpUnacknowledged) env.refresh(conn, env.timeouts.tcpUnacknowledged);
  } else {
    t.lastIndex = index;
    t.lastDir = dir;
  }
}

/**
 * nf_conntrack_tcp_packet for the segment at `th` (`tcplen` bytes of header and payload) in direction `dir`.
 * `checksum` carries the addresses when the checksum must be verified (PREROUTING).
 */
export function tcpPacket(
  conn: Conn,
  dir: 0 | 1,
  b: Uint8Array,
  th: number,
  tcplen: number,
  checksum: { src: number; dst: number } | null,
  env: TcpTrackerEnv,
): TrackVerdict {
  const err = tcpError(b, th, tcplen, checksum);
  if (err) return { v: 'invalid', why: err };
  const seg = readTcpSeg(b, th, tcplen);
  if (!conn.status.confirmed && !conn.tcp && !tcpNew(conn, seg, env.loose)) return { v: 'invalid', why: 'invalid new' };
  const t = conn.tcp!;
  let oldState = t.state;
  const index = tcpIndex(seg.flags);
  let newState = nextTcpState(dir, index, oldState);
  let skipWindow = false;

  const ignore = (): TrackVerdict | null => {
    if (index === TCP_SYNACK_SET && t.lastIndex === TCP_SYN_SET && t.lastDir !== dir && seg.ack === t.lastEnd) {
      // This SYN/ACK answers a SYN we ignored: client and server are in sync, so take over their view.
      oldState = sSS;
      newState = sSR;
      const last = t.seen[t.lastDir];
      last.tdEnd = t.lastEnd;
      last.tdMaxend = t.lastEnd;
      last.tdMaxwin = t.lastWin === 0 ? 1 : t.lastWin;
      last.tdScale = t.lastWscale;
      t.lastFlags &= ~F_EXP_CHALLENGE_ACK;
      last.flags = t.lastFlags;
      resetSide(t.seen[dir]);
      return null;
    }
    t.lastIndex = index;
    t.lastDir = dir;
    t.lastSeq = seg.seq;
    t.lastEnd = segmentEnd(seg);
    t.lastWin = seg.win;
    if (index === TCP_SYN_SET && dir === 0) {
      const opts = newTcpSide();
      t.lastFlags = 0;
      t.lastWscale = 0;
      tcpOptions(seg, opts);
      if (opts.flags & F_WINDOW_SCALE) {
        t.lastFlags |= F_WINDOW_SCALE;
        t.lastWscale = opts.tdScale;
      }
      if (opts.flags & F_SACK_PERM) t.lastFlags |= F_SACK_PERM;
      if (oldState === sLA) t.lastFlags |= F_EXP_CHALLENGE_ACK;
    }
    if (oldState === sSS && index === TCP_ACK_SET && dir === 1) t.lastAck = seg.ack;
    return { v: 'accept' };
  };

  switch (newState) {
    case sSS: {
      if (oldState < sTW) break;
      const reopen =
        (t.seen[dir].flags | t.seen[dir === 0 ? 1 : 0].flags) & F_CLOSE_INIT ||
        (t.lastDir === dir && t.lastIndex === TCP_RST_SET);
      if (reopen) {
        // A new connection reusing the tuple of a closed one: delete the old entry and start again.
        env.kill(conn);
        return { v: 'repeat' };
      }
      const r = ignore();
      if (r) return r;
      break;
    }
    case sIG: {
      const r = ignore();
      if (r) return r;
      break;
    }
    case sIV:
      return {
        v: 'invalid',
        why: `packet (index ${index}) in dir ${dir} invalid, state ${TCP_STATE_NAMES[oldState]}`,
      };
    case sTW:
      if (
        oldState === sLA &&
        index === TCP_ACK_SET &&
        t.lastDir !== dir &&
        t.lastIndex === TCP_SYN_SET &&
        t.lastFlags & F_EXP_CHALLENGE_ACK
      ) {
        // An RFC 5961 challenge ACK answering a SYN, not the last ACK of the close.
        t.lastFlags &= ~F_EXP_CHALLENGE_ACK;
        return { v: 'accept' };
      }
      break;
    case sS2:
      t.lastFlags |= F_SIMULTANEOUS_OPEN;
      break;
    case sSR:
      if (dir === 1 && index === TCP_ACK_SET && t.lastFlags & F_SIMULTANEOUS_OPEN) newState = sES;
      break;
    case sCL: {
      if (index !== TCP_RST_SET) break;
      if (canEarlyDrop(t.state)) {
        skipWindow = true;
        break;
      }
      const peer = t.seen[dir === 0 ? 1 : 0];
      if (peer.flags & F_MAXACK_SET && t.lastIndex !== TCP_SYN_SET) {
        const seq = seg.seq;
        if (seq === 0 && !established(conn)) break;
        if (before(seq, peer.tdMaxack)) return { v: 'invalid', why: 'invalid rst' };
        if (!established(conn) || seq === peer.tdMaxack) break;
        if (t.lastIndex === TCP_ACK_SET && t.lastDir === dir && seq === t.lastEnd) break;
        // RST not exactly at the expected sequence: keep the state, a challenge ACK may follow.
        newState = oldState;
      }
      if (
        ((conn.status.seenReply && t.lastIndex === TCP_SYN_SET) ||
          (!conn.status.assured && t.lastIndex === TCP_ACK_SET)) &&
        seg.ack === t.lastEnd
      ) {
        skipWindow = true;
        break;
      }
      if (oldState === sSS && t.lastIndex === TCP_ACK_SET && t.lastDir === 1 && seg.seq === t.lastAck) {
        skipWindow = true;
      }
      break;
    }
    default:
      break;
  }

  if (!skipWindow) {
    const w = tcpInWindow(t, dir, index, seg, env.beLiberal);
    if (w.res === 'ignore') return { v: 'accept' };
    if (w.res === 'invalid') {
      handleInvalid(conn, dir, index, env);
      return { v: 'invalid', why: w.why };
    }
  }

  t.lastIndex = index;
  t.lastDir = dir;
  t.state = newState;
  if (oldState !== newState && newState === sFW) t.seen[dir].flags |= F_CLOSE_INIT;

  const T = env.timeouts;
  const stateTimeout = timeoutOf(T, newState);
  let timeout: number;
  if (t.retrans >= env.maxRetrans && stateTimeout > T.tcpMaxRetrans) timeout = T.tcpMaxRetrans;
  else if (index === TCP_RST_SET) timeout = T.tcpClose;
  else if ((t.seen[0].flags | t.seen[1].flags) & F_DATA_UNACKNOWLEDGED && stateTimeout > T.tcpUnacknowledged)
    timeout = T.tcpUnacknowledged;
  else if (t.lastWin === 0 && stateTimeout > T.tcpMaxRetrans) timeout = T.tcpMaxRetrans;
  else timeout = stateTimeout;

  if (!conn.status.seenReply) {
    if (seg.flags & 0x04) {
      // The only answer was a RST: no connection, delete the entry now.
      env.kill(conn);
      return { v: 'accept' };
    }
    // A retransmitted SYN does not extend the entry (port reuse would otherwise keep it alive forever).
    if (index === TCP_SYN_SET && oldState === sSS) return { v: 'accept' };
    if (newState === sES && timeout > T.tcpUnacknowledged) timeout = T.tcpUnacknowledged;
  } else if (!conn.status.assured && (oldState === sSR || oldState === sES) && newState === sES) {
    conn.status.assured = true;
  }
  env.refresh(conn, timeout);
  return { v: 'accept' };
}
