// The shared shapes of the netfilter model: rules (built-in -s/-d/-i/-o/-p part, match modules, a target), chains,
// tables, the per-packet context matches and targets see, and the conntrack entry they may inspect. Rule text is the
// exact `iptables-save` form, so a rule prints as it parsed and round-trips byte for byte.

import type { NfHook } from '../netns/hooks.js';
import type { NetDev } from '../netns/netdev.js';
import type { NetNs } from '../netns/netns.js';
import type { Skb } from '../netns/skb.js';
import type { Nanos } from '../sim/events.js';
import type { Rng } from '../sim/rng.js';
import type { Ipv4 } from '../wire/addr.js';
import type { CompiledChain } from './traverse.js';
import type { ChainSummary } from './validate.js';

export type TableName = 'raw' | 'mangle' | 'nat' | 'filter';

export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter'];

/** Built-in chains per table, in the order iptables-save prints them. */
export const BUILTIN_CHAINS: Record<TableName, readonly NfHook[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Conntrack states as `-m conntrack --ctstate` names them (SNAT/DNAT are virtual: the entry's NAT status). */
export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

/** One direction of a connection. For ICMP: `sport` is the echo id, `dport` is type << 8 | code. */
export interface CtTuple {
  proto: number;
  src: Ipv4;
  dst: Ipv4;
  sport: number;
  dport: number;
}

/** A conntrack entry as matches see it (the conntrack module owns the implementation). */
export interface CtEntry {
  readonly id: number;
  original: CtTuple;
  reply: CtTuple;
  /** IPS_* status bits by name. */
  status: {
    confirmed: boolean;
    seenReply: boolean;
    assured: boolean;
    srcNat: boolean;
    dstNat: boolean;
    srcNatDone: boolean;
    dstNatDone: boolean;
  };
  /** ct mark (CONNMARK, -m connmark). */
  mark: number;
  /** Absolute virtual time at which the entry expires. */
  timeoutAt: Nanos;
  /** TCP state name (SYN_SENT, ESTABLISHED, …) for TCP entries. */
  tcpState?: string;
}

export type CtDir = 'ORIGINAL' | 'REPLY';

/** `--reject-with` values. */
export type RejectWith =
  | 'icmp-net-unreachable'
  | 'icmp-host-unreachable'
  | 'icmp-port-unreachable'
  | 'icmp-proto-unreachable'
  | 'icmp-net-prohibited'
  | 'icmp-host-prohibited'
  | 'icmp-admin-prohibited'
  | 'tcp-reset';

/** A NAT range as DNAT/SNAT/MASQUERADE/REDIRECT specify it. Ports 0 = keep. */
export interface NatRange {
  minIp: Ipv4;
  maxIp: Ipv4;
  minPort: number;
  maxPort: number;
  /** Addresses given (false for MASQUERADE/REDIRECT, which take them from the device). */
  mapIps: boolean;
  /** Ports given (`:port` or `--to-ports`). */
  mapPorts: boolean;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

export type NatKind = 'SNAT' | 'DNAT' | 'MASQUERADE' | 'REDIRECT';

/** What targets may ask of the engine; implemented per traversal. */
export interface TargetEnv {
  readonly rng: Rng;
  readonly now: Nanos;
  /** Sets up the connection's NAT binding (first packet only) and applies it; 'drop' when no tuple is free. */
  nat(kind: NatKind, range: NatRange): 'accept' | 'drop';
  /** Sends the ICMP error or TCP RST for the current packet (the packet itself is then dropped). */
  reject(kind: RejectWith): void;
  /** LOG: a trace line with the kernel's log format; TRACE: turns on rule tracing for this packet. */
  log(prefix: string, text: string): void;
  trace(): void;
  /** Marks the packet as not tracked (raw table NOTRACK / CT --notrack). */
  notrack(): void;
}

/** Everything a match or target may look at for one packet in one table traversal. */
export interface PacketCtx {
  readonly ns: NetNs;
  readonly skb: Skb;
  readonly hook: NfHook;
  readonly table: TableName;
  readonly inDev: NetDev | null;
  readonly outDev: NetDev | null;
  readonly physIn: NetDev | null;
  readonly physOut: NetDev | null;
  readonly bridged: boolean;
  /** Parsed from the packet bytes at the start of this table's traversal. */
  proto: number;
  src: Ipv4;
  dst: Ipv4;
  /** Transport ports (0 when none); for ICMP, sport = echo id. */
  sport: number;
  dport: number;
  tcpFlags: number;
  /** ICMP type/code, -1 when not ICMP. */
  icmpType: number;
  icmpCode: number;
  /** Non-first fragment (`-f`). */
  fragment: boolean;
  /** IPv4 total length. */
  len: number;
  ct: CtEntry | null;
  ctState: CtState;
  ctDir: CtDir;
  readonly env: TargetEnv;
}

/** A match module instance in one rule (`-m tcp --dport 80`, `-m comment --comment x`, …). */
export interface Match {
  /** Module name as in `-m NAME`. */
  readonly name: string;
  matches(ctx: PacketCtx): boolean;
  /** iptables-save text of this match, e.g. `-m tcp --dport 80`. */
  save(): string;
  /** `iptables -L` text of this match, e.g. `tcp dpt:80` (numeric: `-n` given). Absent: nothing is listed. */
  print?(numeric: boolean): string;
  /** Hooks the match is valid in (undefined = any), checked at load like the kernel's hook masks. */
  readonly hooks?: readonly NfHook[];
  /**
   * The instance keeps per-rule state (a token bucket, an nth counter), so every rule needs its own. Instances
   * without it never change after creation and are shared by the rules made from one parsed line.
   */
  readonly perRuleState?: boolean;
}

export type TargetResult =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'return' }
  /** Non-terminating targets (MARK, LOG, CONNMARK, …) continue with the next rule. */
  | { kind: 'continue' }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string };

export interface Target {
  /** Target name as in `-j NAME` (a user chain name for jumps). */
  readonly name: string;
  run(ctx: PacketCtx): TargetResult;
  /** iptables-save text, e.g. `-j DNAT --to-destination 10.0.0.2:80` or `-g KUBE-SVC-X`. */
  save(): string;
  /** Tables the target is valid in (undefined = any). */
  readonly tables?: readonly TableName[];
  /** Hooks the target is valid in (undefined = any); checked at load like the kernel's hook masks. */
  readonly hooks?: readonly NfHook[];
  /** Chain this target jumps or goes to (for loop detection and missing-chain errors). */
  readonly jumpTo?: string;
  /** `-g CHAIN` rather than `-j CHAIN`. */
  readonly goto?: boolean;
  /** `iptables -L` text after the addresses, e.g. `to:10.0.0.2:80` (numeric: `-n` given). */
  print?(numeric: boolean): string;
  /** Name in the target column of `iptables -L` when it differs from `name` (NOTRACK lists as CT). */
  readonly listName?: string;
}

export interface AddrSpec {
  addr: Ipv4;
  /** Netmask as uint32 (CIDR or dotted mask). */
  mask: number;
  inv: boolean;
}

export interface IfaceSpec {
  /** Name without the trailing `+`. */
  name: string;
  /** `eth+` matches every name starting with `eth`. */
  wildcard: boolean;
  inv: boolean;
}

/** Position of a rule in its source (scenario file or restore text). */
export interface SrcPos {
  file: string;
  line: number;
  col: number;
}

/**
 * What the load-time checks need of a rule (validate.ts): kept on a rule whose parts are not built yet (a LazyRule),
 * so that checking a table does not build them.
 */
export interface RuleFacts {
  /** Chain the rule jumps or goes to. */
  readonly jumpTo: string | undefined;
  /** Tables the target allows (undefined: any). */
  readonly tables: readonly TableName[] | undefined;
  /** Hooks the target and every match allow, as bits (PREROUTING 1, INPUT 2, FORWARD 4, OUTPUT 8, POSTROUTING 16). */
  readonly hooks: number;
  /** The target or a match needs connection tracking. */
  readonly conntrack: boolean;
  /** nfacct objects the rule counts into. */
  readonly nfacct: readonly string[];
}

export interface Rule {
  src: AddrSpec | null;
  dst: AddrSpec | null;
  inIface: IfaceSpec | null;
  outIface: IfaceSpec | null;
  /** IP protocol number, 0 for `all`/absent. */
  proto: { num: number; inv: boolean } | null;
  /** `-f` / `! -f`. */
  fragment: { inv: boolean } | null;
  matches: Match[];
  /** null: a rule without -j (counts only). */
  target: Target | null;
  counters: { packets: number; bytes: number };
  /** iptables-save text after `-A CHAIN ` (so `-A ${chain} ${text}` is the saved line). */
  text: string;
  pos?: SrcPos;
  /** The `-j`/`-g` word (commit errors about the target point there). */
  targetPos?: SrcPos;
}

export type Policy = 'ACCEPT' | 'DROP';

export interface Chain {
  name: string;
  /** Built-in chains have a policy; user chains have none (`-`). */
  policy: Policy | null;
  rules: Rule[];
  counters: { packets: number; bytes: number };
  /**
   * What validation and traversal derived from `rules`, kept on the chain (a side table costs more for a hundred
   * thousand chains). Each records the rule array it came from: a chain whose rules changed derives them again.
   */
  summary?: ChainSummary | undefined;
  compiled?: CompiledChain | undefined;
  /**
   * The transaction that made this chain object and may still change it in place (its token), if any: a field
   * instead of a set of a hundred thousand chains.
   */
  owner: object | null;
}
