// Rule traversal (ipt_do_table): a packet walks a built-in chain's rules in order; each matching rule's counters
// count it; a terminating target ends the walk, a jump pushes a return point, a goto replaces the current chain,
// RETURN or falling off a user chain returns, and falling off (or returning from) the built-in chain applies its
// policy. First-match semantics are kept exactly, but the walk does not test every rule: each chain is compiled
// (once per chain object, and kept on it: commits are copy-on-write) into an index of the rules that can only match
// one destination address (`-d X/32`) or one TCP/UDP destination port, so a packet visits, in order, only the rules
// keyed on its own address or port plus the unkeyed ones — kube-proxy's KUBE-SERVICES with 10,000 services costs
// about what it costs with 10. Short chains without keyed rules (most of kube-proxy's) share one index per length.

import type { Chain, PacketCtx, Rule } from './types.js';

/** Upper bound on nested jumps; the kernel refuses loops at load, this only guards against a bug. */
const MAX_DEPTH = 64;

export type RuleEvent = (
  chain: Chain,
  num: number,
  rule: Rule | null,
  kind: 'rule' | 'policy' | 'return',
  verdict: string,
) => void;

/** A chain's rules indexed for traversal, kept on the chain (see Chain.compiled). */
export interface CompiledChain {
  /** Every rule is tested (none is keyed): valid for any chain of `len` rules, and shared by all of them. */
  readonly all: boolean;
  readonly index: ChainIndex | null;
  /** The rule array (and its length) this was compiled from. */
  readonly rules: readonly Rule[];
  readonly len: number;
  readonly unkeyed: Int32Array;
  readonly byDst: ReadonlyMap<number, Int32Array>;
  readonly byPort: ReadonlyMap<number, Int32Array>;
}

/** Exact-destination and exact-port keys a rule can be indexed under (null: must be tested for every packet). */
export type RuleKeyFn = (rule: Rule) => { dst?: number; port?: number } | null;

const NO_KEYS: ReadonlyMap<number, Int32Array> = new Map();

/** 0, 1, …, n-1 for small n, shared by every chain whose rules are all unkeyed (most of kube-proxy's). */
const identities: Int32Array[] = [];

const allOf: CompiledChain[] = [];

/** The shared index of a chain of `n` (at most 64) rules that are all tested. */
function testAll(n: number): CompiledChain {
  let c = allOf[n];
  if (c === undefined) {
    c = { all: true, index: null, rules: [], len: n, unkeyed: identity(n), byDst: NO_KEYS, byPort: NO_KEYS };
    allOf[n] = c;
  }
  return c;
}

function identity(n: number): Int32Array {
  if (n > 64) return Int32Array.from({ length: n }, (_, i) => i);
  let a = identities[n];
  if (a === undefined) {
    a = Int32Array.from({ length: n }, (_, i) => i);
    identities[n] = a;
  }
  return a;
}

export class ChainIndex {
  constructor(private readonly keyOf: RuleKeyFn) {}

  /**
   * The chain's index. A commit copies only the chains it changes (TableTxn is copy-on-write), so a chain object
   * whose rule array is the one compiled is unchanged since: its index stays valid in later generations. (`gen`,
   * the ruleset generation, is no longer needed to tell.)
   */
  get(chain: Chain, _gen?: number): CompiledChain {
    const hit = chain.compiled;
    if (
      hit !== undefined &&
      hit.len === chain.rules.length &&
      (hit.all || (hit.index === this && hit.rules === chain.rules))
    )
      return hit;
    const unkeyed: number[] = [];
    let byDst: Map<number, number[]> | null = null;
    let byPort: Map<number, number[]> | null = null;
    const rules = chain.rules;
    for (let i = 0; i < rules.length; i++) {
      const k = this.keyOf(rules[i]!);
      if (k?.dst !== undefined) {
        byDst ??= new Map();
        push(byDst, k.dst, i);
      } else if (k?.port !== undefined) {
        byPort ??= new Map();
        push(byPort, k.port, i);
      } else unkeyed.push(i);
    }
    if (byDst === null && byPort === null && rules.length <= 64) {
      chain.compiled = testAll(rules.length);
      return chain.compiled;
    }
    const c: CompiledChain = {
      all: false,
      index: this,
      rules,
      len: rules.length,
      unkeyed: unkeyed.length === rules.length ? identity(rules.length) : Int32Array.from(unkeyed),
      byDst: byDst === null ? NO_KEYS : freeze(byDst),
      byPort: byPort === null ? NO_KEYS : freeze(byPort),
    };
    chain.compiled = c;
    return c;
  }
}

/** Gives `to`, whose rules are those of `from` one for one, the index of `from` (rule numbers and keys agree). */
export function carryIndex(from: Chain, to: Chain): void {
  const c = from.compiled;
  if (c === undefined || c.len !== from.rules.length || to.rules.length !== c.len) return;
  if (c.all) to.compiled = c;
  else if (c.rules === from.rules) to.compiled = { ...c, rules: to.rules };
}

function push(m: Map<number, number[]>, k: number, v: number): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function freeze(m: Map<number, number[]>): Map<number, Int32Array> {
  const out = new Map<number, Int32Array>();
  for (const [k, v] of m) out.set(k, Int32Array.from(v));
  return out;
}

const EMPTY = new Int32Array(0);

/** Port key: protocol in the high bits so TCP 80 and UDP 80 differ. */
export function portKey(proto: number, port: number): number {
  return proto * 65536 + port;
}

/** The built-in match part of a rule (-s, -d, -i, -o, -p, -f). */
function ipMatches(r: Rule, ctx: PacketCtx): boolean {
  if (r.src && (((ctx.src ^ r.src.addr) & r.src.mask) === 0) === r.src.inv) return false;
  if (r.dst && (((ctx.dst ^ r.dst.addr) & r.dst.mask) === 0) === r.dst.inv) return false;
  if (r.inIface && ifaceMatches(r.inIface, ctx.inDev?.name) === r.inIface.inv) return false;
  if (r.outIface && ifaceMatches(r.outIface, ctx.outDev?.name) === r.outIface.inv) return false;
  if (r.proto && r.proto.num !== 0 && (ctx.proto === r.proto.num) === r.proto.inv) return false;
  if (r.fragment && ctx.fragment === r.fragment.inv) return false;
  return true;
}

function ifaceMatches(spec: { name: string; wildcard: boolean }, name: string | undefined): boolean {
  if (name === undefined) return spec.name === '' && spec.wildcard;
  return spec.wildcard ? name.startsWith(spec.name) : name === spec.name;
}

export function ruleMatches(r: Rule, ctx: PacketCtx): boolean {
  if (!ipMatches(r, ctx)) return false;
  // A non-first fragment has no transport header: matches that need one do not match it.
  for (const m of r.matches) if (!m.matches(ctx)) return false;
  return true;
}

/**
 * Walks `table`'s built-in chain `hook` for the packet in `ctx`. `chains` resolves jump targets; `gen` keys the
 * index cache; `onEvent` (when set) is told about every rule that matched and the policy/return decisions.
 */
export function doTable(
  chains: ReadonlyMap<string, Chain>,
  builtin: Chain,
  ctx: PacketCtx,
  index: ChainIndex,
  gen: number,
  onEvent: RuleEvent | null,
): 'accept' | 'drop' {
  const stack: { chain: Chain; next: number }[] = [];
  let chain = builtin;
  let pos = 0;
  const len = ctx.len;
  for (;;) {
    const c = index.get(chain, gen);
    const a = c.unkeyed;
    const b = c.byDst.get(ctx.dst) ?? EMPTY;
    const p =
      c.byPort.size && (ctx.proto === 6 || ctx.proto === 17)
        ? (c.byPort.get(portKey(ctx.proto, ctx.dport)) ?? EMPTY)
        : EMPTY;
    let ia = lowerBound(a, pos);
    let ib = lowerBound(b, pos);
    let ip = lowerBound(p, pos);
    let outcome: { kind: 'jump' | 'goto'; chain: Chain; at: number } | { kind: 'end' } | null = null;
    while (outcome === null) {
      // Next candidate in rule order among the three sorted lists.
      let i = 0x7fffffff;
      if (ia < a.length) i = a[ia]!;
      if (ib < b.length && b[ib]! < i) i = b[ib]!;
      if (ip < p.length && p[ip]! < i) i = p[ip]!;
      if (i === 0x7fffffff) {
        outcome = { kind: 'end' };
        break;
      }
      if (ia < a.length && a[ia] === i) ia++;
      if (ib < b.length && b[ib] === i) ib++;
      if (ip < p.length && p[ip] === i) ip++;
      const r = chain.rules[i]!;
      if (!ruleMatches(r, ctx)) continue;
      r.counters.packets++;
      r.counters.bytes += len;
      const t = r.target;
      if (!t) {
        onEvent?.(chain, i + 1, r, 'rule', 'continue');
        continue;
      }
      const res = t.run(ctx);
      switch (res.kind) {
        case 'accept':
        case 'drop':
          onEvent?.(chain, i + 1, r, 'rule', res.kind === 'accept' ? 'ACCEPT' : 'DROP');
          return res.kind;
        case 'continue':
          onEvent?.(chain, i + 1, r, 'rule', 'continue');
          continue;
        case 'return': {
          onEvent?.(chain, i + 1, r, 'rule', 'RETURN');
          outcome = { kind: 'end' };
          break;
        }
        case 'jump':
        case 'goto': {
          const to = chains.get(res.chain);
          if (!to) throw new Error(`jump to missing chain ${res.chain} (the ruleset should have been refused)`);
          onEvent?.(chain, i + 1, r, 'rule', `${res.kind === 'jump' ? 'jump' : 'goto'} ${res.chain}`);
          outcome = { kind: res.kind, chain: to, at: i + 1 };
          break;
        }
      }
    }
    if (outcome.kind === 'jump') {
      if (stack.length >= MAX_DEPTH) throw new Error(`rule traversal deeper than ${MAX_DEPTH} chains`);
      stack.push({ chain, next: outcome.at });
      chain = outcome.chain;
      pos = 0;
      continue;
    }
    if (outcome.kind === 'goto') {
      chain = outcome.chain;
      pos = 0;
      continue;
    }
    // End of chain, or RETURN.
    const top = stack.pop();
    if (top) {
      onEvent?.(chain, chain.rules.length + 1, null, 'return', `return to ${top.chain.name}`);
      chain = top.chain;
      pos = top.next;
      continue;
    }
    // Back at (or returned past) the built-in chain: its policy decides.
    builtin.counters.packets++;
    builtin.counters.bytes += len;
    const policy = builtin.policy ?? 'ACCEPT';
    onEvent?.(builtin, builtin.rules.length + 1, null, 'policy', policy);
    return policy === 'ACCEPT' ? 'accept' : 'drop';
  }
}

function lowerBound(a: Int32Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
