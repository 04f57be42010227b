// TCP window tracking (tcp_in_window in nf_conntrack_proto_tcp.c, after Guido van Rooij's "Real Stateful TCP
// Packet Filtering in IP Filter"): each direction remembers the highest sequence end it sent (td_end), the highest
// end the peer's window allowed (td_maxend) and its largest window (td_maxwin); a segment is in window when its
// sequence lies within what the receiver could accept and its (S)ACK acknowledges nothing the receiver did not
// send. Sequence arithmetic is modulo 2^32 (before/after). Window scale and SACK-permitted come from SYN options.
// Limit: no NAT sequence adjustment (no helpers rewrite payloads here).

import { readU16, readU32 } from '../../wire/addr.js';
import {
  F_BE_LIBERAL,
  F_DATA_UNACKNOWLEDGED,
  F_MAXACK_SET,
  F_SACK_PERM,
  F_WINDOW_SCALE,
  sSR,
  sSS,
  TCP_ACK_SET,
  type TcpCt,
  type TcpSide,
} from './tcp_state.js';

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const MAXACKWINCONST = 66000;
const TCP_MAX_WSCALE = 14;

/** A TCP segment as the tracker reads it: header at `th`, `len` bytes of header and payload. */
export interface TcpSeg {
  b: Uint8Array;
  th: number;
  len: number;
  /** Byte 13 of the header (CWR ECE URG ACK PSH RST SYN FIN). */
  flags: number;
  seq: number;
  ack: number;
  win: number;
  /** Header length in bytes. */
  doff: number;
}

export function readTcpSeg(b: Uint8Array, th: number, len: number): TcpSeg {
  return {
    b,
    th,
    len,
    flags: b[th + 13]!,
    seq: readU32(b, th + 4),
    ack: readU32(b, th + 8),
    win: readU16(b, th + 14),
    doff: (b[th + 12]! >> 4) * 4,
  };
}

export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

function u32(x: number): number {
  return x >>> 0;
}

/** segment_seq_plus_len: the sequence number just past this segment (SYN and FIN count one each). */
export function segmentEnd(seg: TcpSeg): number {
  return u32(seg.seq + seg.len - seg.doff + (seg.flags & TH_SYN ? 1 : 0) + (seg.flags & TH_FIN ? 1 : 0));
}

/** tcp_options: window scale and SACK-permitted into `side` (the simplified tcp_parse_options). */
export function tcpOptions(seg: TcpSeg, side: TcpSide): void {
  let length = seg.doff - 20;
  if (length <= 0) return;
  side.tdScale = 0;
  side.flags &= F_BE_LIBERAL;
  let p = seg.th + 20;
  const b = seg.b;
  while (length > 0) {
    const opcode = b[p++]!;
    if (opcode === 0) return;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return;
    const opsize = b[p++]!;
    if (opsize < 2 || opsize > length) return;
    if (opcode === 4 && opsize === 2) side.flags |= F_SACK_PERM;
    else if (opcode === 3 && opsize === 3) {
      side.tdScale = Math.min(b[p]!, TCP_MAX_WSCALE);
      side.flags |= F_WINDOW_SCALE;
    }
    p += opsize - 2;
    length -= opsize;
  }
}

/** tcp_sack: the highest right edge among the SACK blocks, if above `sack`. */
function tcpSack(seg: TcpSeg, sack: number): number {
  let length = seg.doff - 20;
  if (length <= 0) return sack;
  const b = seg.b;
  let p = seg.th + 20;
  // Timestamp-only fast path (01 01 08 0a).
  if (length === 12 && b[p] === 1 && b[p + 1] === 1 && b[p + 2] === 8 && b[p + 3] === 10) return sack;
  let best = sack;
  while (length > 0) {
    const opcode = b[p++]!;
    if (opcode === 0) return best;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return best;
    const opsize = b[p++]!;
    if (opsize < 2 || opsize > length) return best;
    if (opcode === 5 && opsize >= 10 && (opsize - 2) % 8 === 0) {
      for (let i = 0; i < opsize - 2; i += 8) {
        const right = readU32(b, p + i + 4);
        if (after(right, best)) best = right;
      }
      return best;
    }
    p += opsize - 2;
    length -= opsize;
  }
  return best;
}

/** tcp_init_sender: a SYN (or SYN/ACK) starts this direction's window record. */
function initSender(sender: TcpSide, receiver: TcpSide, seg: TcpSeg, end: number, win: number, dir: 0 | 1): void {
  sender.tdEnd = end;
  sender.tdMaxend = end;
  sender.tdMaxwin = win === 0 ? 1 : win;
  tcpOptions(seg, sender);
  // RFC 1323: scaling is on only when both ends offered it.
  if (dir === 1 && !(sender.flags & F_WINDOW_SCALE && receiver.flags & F_WINDOW_SCALE)) {
    sender.tdScale = 0;
    receiver.tdScale = 0;
  }
}

export type WindowVerdict = { res: 'accept' } | { res: 'ignore' | 'invalid'; why: string };

/** tcp_in_window for a segment in direction `dir` of a connection in `t.state`. */
export function tcpInWindow(t: TcpCt, dir: 0 | 1, index: number, seg: TcpSeg, beLiberal: boolean): WindowVerdict {
  const sender = t.seen[dir];
  const receiver = t.seen[dir === 0 ? 1 : 0];
  let seq = seg.seq;
  let ack = seg.ack;
  let sack = ack;
  const winRaw = seg.win;
  let win = winRaw;
  let end = segmentEnd(seg);
  const syn = (seg.flags & TH_SYN) !== 0;
  const hasAck = (seg.flags & TH_ACK) !== 0;
  const rst = (seg.flags & TH_RST) !== 0;
  const complain = (res: 'ignore' | 'invalid', why: string): WindowVerdict =>
    sender.flags & F_BE_LIBERAL || beLiberal ? { res: 'accept' } : { res, why };

  if (receiver.flags & F_SACK_PERM) sack = tcpSack(seg, sack);

  if (sender.tdMaxwin === 0) {
    if (syn) {
      initSender(sender, receiver, seg, end, win, dir);
      if (!hasAck) return { res: 'accept' };
    } else {
      // Picked up mid-connection: take what the segment says.
      sender.tdEnd = end;
      const swin = u32(win << sender.tdScale);
      sender.tdMaxwin = swin === 0 ? 1 : swin;
      sender.tdMaxend = u32(end + sender.tdMaxwin);
      if (receiver.tdMaxwin === 0) {
        receiver.tdEnd = sack;
        receiver.tdMaxend = sack;
      } else if (sack === u32(receiver.tdEnd + 1)) {
        receiver.tdEnd = u32(receiver.tdEnd + 1);
      }
    }
  } else if (syn && after(end, sender.tdEnd) && (t.state === sSS || t.state === sSR)) {
    // A SYN reusing the connection with a higher sequence: start this direction again.
    initSender(sender, receiver, seg, end, win, dir);
    if (dir === 1 && !hasAck) return { res: 'accept' };
  }

  if (!hasAck) {
    ack = receiver.tdEnd;
    sack = ack;
  } else if (rst && ack === 0) {
    ack = receiver.tdEnd;
    sack = ack;
  }

  if (rst && seq === 0 && t.state === sSS) {
    seq = sender.tdEnd;
    end = seq;
  }

  const maxAckWindow = Math.max(sender.tdMaxwin, MAXACKWINCONST);
  if (!before(seq, u32(sender.tdMaxend + 1))) {
    const overshot = u32(end - sender.tdMaxend + 1);
    const ackOk = after(sack, u32(receiver.tdEnd - maxAckWindow - 1));
    const inRecvWin = receiver.tdMaxwin !== 0 && after(end, u32(sender.tdEnd - receiver.tdMaxwin - 1));
    if (inRecvWin && ackOk && overshot <= receiver.tdMaxwin && before(sack, u32(receiver.tdEnd + 1))) {
      sender.tdEnd = end;
      sender.flags |= F_DATA_UNACKNOWLEDGED;
      return complain('ignore', `${overshot} bytes more than expected`);
    }
    return complain('invalid', `SEQ is over upper bound ${u32(sender.tdMaxend + 1)} (over the window of the receiver)`);
  }
  if (!before(sack, u32(receiver.tdEnd + 1)))
    return complain('invalid', `ACK is over upper bound ${u32(receiver.tdEnd + 1)} (ACKed data not seen yet)`);
  const inRecvWin = receiver.tdMaxwin === 0 || after(end, u32(sender.tdEnd - receiver.tdMaxwin - 1));
  if (!inRecvWin)
    return complain(
      'ignore',
      `SEQ is under lower bound ${u32(sender.tdEnd - receiver.tdMaxwin - 1)} (already ACKed data retransmitted)`,
    );
  if (!after(sack, u32(receiver.tdEnd - maxAckWindow - 1)))
    return complain(
      'ignore',
      `ignored ACK under lower bound ${u32(receiver.tdEnd - maxAckWindow - 1)} (possible overly delayed)`,
    );

  if (!syn) win = u32(win << sender.tdScale);
  const swin = u32(win + (sack - ack));
  if (sender.tdMaxwin < swin) sender.tdMaxwin = swin;
  if (after(end, sender.tdEnd)) {
    sender.tdEnd = end;
    sender.flags |= F_DATA_UNACKNOWLEDGED;
  }
  if (hasAck) {
    if (!(sender.flags & F_MAXACK_SET)) {
      sender.tdMaxack = ack;
      sender.flags |= F_MAXACK_SET;
    } else if (after(ack, sender.tdMaxack)) sender.tdMaxack = ack;
  }
  if (receiver.tdMaxwin !== 0 && after(end, sender.tdMaxend))
    receiver.tdMaxwin = u32(receiver.tdMaxwin + (end - sender.tdMaxend));
  if (after(u32(sack + win), u32(receiver.tdMaxend - 1))) {
    receiver.tdMaxend = u32(sack + win);
    if (win === 0) receiver.tdMaxend = u32(receiver.tdMaxend + 1);
  }
  if (ack === receiver.tdEnd) receiver.flags &= ~F_DATA_UNACKNOWLEDGED;

  if (index === TCP_ACK_SET) {
    if (t.lastDir === dir && t.lastSeq === seq && t.lastAck === ack && t.lastEnd === end && t.lastWin === winRaw) {
      t.retrans++;
    } else {
      t.lastDir = dir;
      t.lastSeq = seq;
      t.lastAck = ack;
      t.lastEnd = end;
      t.lastWin = winRaw;
      t.retrans = 0;
    }
  }
  return { res: 'accept' };
}
