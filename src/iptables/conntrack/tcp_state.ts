// The TCP connection tracker's states and transition table (nf_conntrack_proto_tcp.c tcp_conntracks): for each
// direction, the segment's class (SYN, SYN/ACK, FIN, ACK, RST, none) and the current state give the next state,
// or IV (invalid) or IG (ignored: may be valid, the endpoint will tell). Also the private per-connection record
// (struct ip_ct_tcp) the window tracker keeps for each direction.

export const sNO = 0;
export const sSS = 1;
export const sSR = 2;
export const sES = 3;
export const sFW = 4;
export const sCW = 5;
export const sLA = 6;
export const sTW = 7;
export const sCL = 8;
export const sS2 = 9;
/** TCP_CONNTRACK_MAX: invalid. */
export const sIV = 10;
/** TCP_CONNTRACK_IGNORE. */
export const sIG = 11;

export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];

/** Segment classes (enum tcp_bit_set), by precedence RST > SYN(/ACK) > FIN > ACK. */
export const TCP_SYN_SET = 0;
export const TCP_SYNACK_SET = 1;
export const TCP_FIN_SET = 2;
export const TCP_ACK_SET = 3;
export const TCP_RST_SET = 4;
export const TCP_NONE_SET = 5;

/** IP_CT_TCP_FLAG_* (per direction) and the last_flags bits. */
export const F_WINDOW_SCALE = 0x01;
export const F_SACK_PERM = 0x02;
export const F_CLOSE_INIT = 0x04;
export const F_BE_LIBERAL = 0x08;
export const F_DATA_UNACKNOWLEDGED = 0x10;
export const F_MAXACK_SET = 0x20;
export const F_EXP_CHALLENGE_ACK = 0x40;
export const F_SIMULTANEOUS_OPEN = 0x80;

// Columns: sNO sSS sSR sES sFW sCW sLA sTW sCL sS2; rows: SYN, SYN/ACK, FIN, ACK, RST, none.
const ORIGINAL: readonly (readonly number[])[] = [
  [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
  [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
  [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
  [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
  [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
  [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
];
const REPLY: readonly (readonly number[])[] = [
  [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
  [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
  [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
  [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
  [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
  [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
];

export function nextTcpState(dir: 0 | 1, index: number, state: number): number {
  return (dir === 0 ? ORIGINAL : REPLY)[index]![state]!;
}

/** get_conntrack_index from the flags byte. */
export function tcpIndex(flags: number): number {
  if (flags & 0x04) return TCP_RST_SET;
  if (flags & 0x02) return flags & 0x10 ? TCP_SYNACK_SET : TCP_SYN_SET;
  if (flags & 0x01) return TCP_FIN_SET;
  if (flags & 0x10) return TCP_ACK_SET;
  return TCP_NONE_SET;
}

/** struct ip_ct_tcp_state: what one direction has sent, as far as the tracker saw. */
export interface TcpSide {
  tdEnd: number;
  tdMaxend: number;
  tdMaxwin: number;
  tdMaxack: number;
  tdScale: number;
  flags: number;
}

/** struct ip_ct_tcp. */
export interface TcpCt {
  state: number;
  seen: [TcpSide, TcpSide];
  lastDir: 0 | 1;
  lastIndex: number;
  lastSeq: number;
  lastAck: number;
  lastEnd: number;
  lastWin: number;
  lastWscale: number;
  lastFlags: number;
  retrans: number;
}

export function newTcpSide(): TcpSide {
  return { tdEnd: 0, tdMaxend: 0, tdMaxwin: 0, tdMaxack: 0, tdScale: 0, flags: 0 };
}

export function newTcpCt(): TcpCt {
  return {
    state: sNO,
    seen: [newTcpSide(), newTcpSide()],
    lastDir: 0,
    lastIndex: TCP_NONE_SET,
    lastSeq: 0,
    lastAck: 0,
    lastEnd: 0,
    lastWin: 0,
    lastWscale: 0,
    lastFlags: 0,
    retrans: 0,
  };
}
