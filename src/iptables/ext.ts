// The extension interface of the rule language, after libxtables: a match or target module declares its options
// (name, arity, whether `!` may precede it) and hands out a parser that receives them one by one, checks the whole
// at the end (mandatory options, conflicts, the rule's protocol) and creates instances. A rule with several
// addresses (`-s a,b`) becomes several rules, so `create` may be called more than once and every call returns a
// fresh object. Rules made from one parsed line share one instance unless it declares per-rule state
// (Match.perRuleState: nth counters, token buckets), which is never shared.

import type { NfHook } from '../netns/hooks.js';
import { type Arg, failAt } from './args.js';
import type { Match, TableName, Target } from './types.js';

export interface OptionSpec {
  /** Long name without the dashes. */
  readonly name: string;
  /** Values taken: 0, 1, or 2 (`--tcp-flags MASK COMP`). */
  readonly args: 0 | 1 | 2;
  /** `!` may precede the option. */
  readonly invert?: boolean;
  /** Other spellings (`destination-port` for `dport`). */
  readonly aliases?: readonly string[];
}

export interface ProtoSpec {
  num: number;
  inv: boolean;
}

/** What a module may ask about the rule being parsed. */
export interface RuleEnv {
  /** The rule's `-p` so far (null when not given). */
  readonly proto: ProtoSpec | null;
}

export interface ExtParser<T> {
  /** One option of this module; `tok` is the option word, `values` its arguments. */
  parse(opt: OptionSpec, inv: boolean, values: readonly Arg[], tok: Arg): void;
  /** After the whole command line; `at` is the word that loaded the module. */
  finish(env: RuleEnv, at: Arg): void;
  /** A new instance with fresh state. */
  create(): T;
}

export interface MatchModule {
  readonly name: string;
  readonly options: readonly OptionSpec[];
  parser(env: RuleEnv): ExtParser<Match>;
}

export interface TargetModule {
  readonly name: string;
  readonly options: readonly OptionSpec[];
  parser(env: RuleEnv): ExtParser<Target>;
}

const matchModules = new Map<string, MatchModule>();
const targetModules = new Map<string, TargetModule>();

export function registerMatch(m: MatchModule): void {
  matchModules.set(m.name, m);
}

/** Some target module's name has a `-` in it (none has: a name with one is then no target's). */
let hyphenTarget = false;

export function registerTarget(t: TargetModule): void {
  targetModules.set(t.name, t);
  if (t.name.includes('-')) hyphenTarget = true;
}

/** Whether a word with a `-` in it may still name a target module. */
export function targetNamesHaveHyphen(): boolean {
  return hyphenTarget;
}

export function findMatch(name: string): MatchModule | undefined {
  return matchModules.get(name);
}

export function findTarget(name: string): TargetModule | undefined {
  return targetModules.get(name);
}

/** Match extensions iptables ships that the emulator does not model: loading one is a clear error. */
export const UNSUPPORTED_MATCHES: ReadonlySet<string> = new Set([
  'ah',
  'bpf',
  'cgroup',
  'cluster',
  'connbytes',
  'connlabel',
  'connlimit',
  'cpu',
  'dccp',
  'devgroup',
  'dscp',
  'ecn',
  'esp',
  'hashlimit',
  'helper',
  'hl',
  'icmp6',
  'ipcomp',
  'ipvs',
  'osf',
  'owner',
  'pkttype',
  'policy',
  'quota',
  'rateest',
  'realm',
  'rpfilter',
  'set',
  'socket',
  'string',
  'tcpmss',
  'time',
  'tos',
  'ttl',
  'u32',
]);

/** Target extensions iptables ships (a chain may not take their names); those without a module are refused. */
export const KNOWN_TARGETS: ReadonlySet<string> = new Set([
  'ACCEPT',
  'DROP',
  'RETURN',
  'QUEUE',
  'AUDIT',
  'CHECKSUM',
  'CLASSIFY',
  'CLUSTERIP',
  'CONNMARK',
  'CONNSECMARK',
  'CT',
  'DNAT',
  'DSCP',
  'ECN',
  'HMARK',
  'IDLETIMER',
  'LED',
  'LOG',
  'MARK',
  'MASQUERADE',
  'NETMAP',
  'NFLOG',
  'NFQUEUE',
  'NOTRACK',
  'RATEEST',
  'REDIRECT',
  'REJECT',
  'SECMARK',
  'SET',
  'SNAT',
  'SYNPROXY',
  'TCPMSS',
  'TCPOPTSTRIP',
  'TEE',
  'TOS',
  'TPROXY',
  'TRACE',
  'TTL',
  'ULOG',
]);

/** `NAME: option "--a" cannot be used together with "--b".` */
export function conflict(at: Arg, mod: string, a: string, b: string): never {
  return failAt(at, `${mod}: option "--${a}" cannot be used together with "--${b}".`);
}

/** `NAME: option "--x" must be specified` */
export function mustSpecify(at: Arg, mod: string, opt: string): never {
  return failAt(at, `${mod}: option "--${opt}" must be specified`);
}

/** Hook and table limits a match or target carries, checked at commit like xt_check_match/xt_check_target. */
export interface Limits {
  tables?: readonly TableName[];
  hooks?: readonly NfHook[];
}
