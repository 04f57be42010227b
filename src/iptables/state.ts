// The netfilter tables of one namespace (raw, mangle, nat, filter) with their built-in chains and policies, user
// chains and counters, changed the way the kernel and iptables change them: every command is a transaction on a
// copy-on-write view of one table that is validated like the kernel validates a new ruleset (translate_table /
// nft's chain validation: jump targets exist, no jump loop reachable from a built-in chain, every target and match
// allowed in its table and in every hook that reaches it) and then takes effect at once, bumping `generation`. A
// commit writes only the chains the transaction replaced, created or deleted into the table's map (chain objects
// themselves are never changed once live), and tells observers which ones. A table springs into
// existence on the first command that writes it (as with iptables-nft; -L, -F, -Z and -C do not create it).
// Rules keep their counter objects across commits, so counts survive unrelated changes.

import { IptablesError } from './errors.js';
import { KNOWN_TARGETS } from './ext.js';
import { jumpToOf } from './lazy-rule.js';
import type { NfacctStore } from './matches/nfacct.js';
import { MAX_CHAIN_NAME, makeRule, sameRules } from './rule-spec.js';
import { JumpTarget } from './targets/standard.js';
import { textAt } from './text-at.js';
import { carryIndex } from './traverse.js';
import { BUILTIN_CHAINS, type Chain, type Policy, type Rule, type SrcPos, type TableName } from './types.js';
import { carrySummary, chainSummary, type ValidatedTable, validateTable } from './validate.js';

export interface TableState {
  readonly name: TableName;
  /** The table exists (a write created it); iptables-save prints only existing tables. */
  exists: boolean;
  /** Replaced, not changed, by a commit whose transaction worked on a map of its own (see TableTxn.applyTo). */
  chains: Map<string, Chain>;
}

const MSG = {
  noChain: 'iptables: No chain/target/match by that name.',
  exists: 'iptables: Chain already exists.',
  notEmpty: 'iptables: Directory not empty.',
  links: 'iptables: Too many links.',
  badRule: 'iptables: Bad rule (does a matching rule exist in that chain?).',
  insert: 'iptables: Index of insertion too big.',
  del: 'iptables: Index of deletion too big.',
  replace: 'iptables: Index of replacement too big.',
  builtin: 'iptables: Bad built-in chain name.',
  policy: "iptables: Bad policy name. Run `dmesg' for more information.",
  fileExists: 'iptables: File exists.',
} as const;

export function isBuiltin(table: TableName, chain: string): boolean {
  return (BUILTIN_CHAINS[table] as readonly string[]).includes(chain);
}

/** iptables' checks on a new chain name (-N, -E, `:NAME` in restore). */
export function checkChainName(name: string, pos?: SrcPos): void {
  const fail = (m: string): never => {
    throw new IptablesError(m, pos);
  };
  if (name.length > MAX_CHAIN_NAME) fail(`chain name \`${name}' too long (must be under ${MAX_CHAIN_NAME + 1} chars)`);
  if (name.startsWith('-')) fail("chain name not allowed to start with `-'");
  if (name.startsWith('!')) fail("chain name not allowed to start with `!'");
  if (name === '' || /\s/.test(name)) fail(`Invalid chain name \`${name}'`);
  if (KNOWN_TARGETS.has(name)) fail('chain name may not clash with target name');
}

/**
 * A user chain has no policy and so no counters of its own (iptables-save prints `[0:0]`): they all share this one,
 * frozen, so that nothing can count into it.
 */
const USER_CHAIN_COUNTERS: { packets: number; bytes: number } = Object.freeze({ packets: 0, bytes: 0 });

function newChain(name: string, policy: Policy | null): Chain {
  const counters = policy === null ? USER_CHAIN_COUNTERS : { packets: 0, bytes: 0 };
  return { name, policy, rules: [], counters, summary: undefined, compiled: undefined, owner: null };
}

/** A copy of `c` with `rules` (policy and policy counters shared; nothing derived from the old rules). */
function withRules(c: Chain, rules: Rule[]): Chain {
  return {
    name: c.name,
    policy: c.policy,
    rules,
    counters: c.counters,
    summary: undefined,
    compiled: undefined,
    owner: null,
  };
}

/** Runs of at most this many rules are summarised as they end. */
const SHORT_RUN = 64;

/** Tables of at most this many chains are copied whole by a transaction. */
const SMALL_TABLE = 64;

function freshTable(name: TableName): TableState {
  const chains = new Map<string, Chain>();
  for (const c of BUILTIN_CHAINS[name]) chains.set(c, newChain(c, 'ACCEPT'));
  return { name, exists: false, chains };
}

/**
 * A transaction's change to the table it began on: chains created or replaced, chains deleted, and of the changed
 * ones those the table had before (replaced, or deleted and created again).
 */
export interface TableDelta {
  changed: string[];
  deleted: string[];
  replaced: string[];
}

/** What a commit changed in a table: chains by name, or everything (a table rebuilt from scratch). */
export type TableChange = { table: TableName; names: readonly string[] } | { table: TableName; names: null };

/**
 * A working copy of one table, copy-on-write: the live table's chains are shared until a command changes one
 * (see `mut`), and the transaction records only the chains it replaced, deleted or created, so a command costs
 * what it touches, not the whole table (kube-proxy's partial sync rewrites a few chains of a nat table with a
 * hundred thousand). Rules and counter objects are shared with the live table. A transaction that renames a chain
 * (which moves no chain but changes a name in place) or starts from an empty table keeps a whole map instead.
 */
export class TableTxn {
  exists: boolean;
  /** Counter resets applied only if the transaction commits. */
  private zeroes: { packets: number; bytes: number }[] = [];
  /** Chains of `base` this transaction replaced (or deleted: null). */
  private readonly over = new Map<string, Chain | null>();
  /**
   * Chains this transaction created, in creation order: they follow base's chains, as Map insertion puts them (a
   * chain of base deleted and created again is here too, and null in `over`).
   */
  private readonly added = new Map<string, Chain>();
  /** The whole working table, once the overlay cannot express it. */
  private whole: Map<string, Chain> | null = null;
  private count: number;
  /** Marks the chains this transaction made (its own, safe to change in place: `owner` is this token). */
  private readonly token = {};
  /**
   * Chains declared by iptables-restore's `:NAME` lines in this transaction, in order, while nothing else changed
   * the table: a payload appends to its chains mostly in the order it declared them, so the next one is found by
   * comparing one name instead of looking it up among a hundred thousand.
   */
  private declared: Chain[] = [];
  private nextDeclared = 0;
  /** Where among `declared` the next jump target is expected, and the last name `jumpName` looked up. */
  private nextTarget = 0;
  private lastTarget = '';
  /**
   * The chain the last `appendRule` wrote to (restore appends runs of rules to one chain), and the rules of the run
   * not yet in it: a run's rules go into the chain as one array of their own length when the run ends, so that no
   * array grown push by push (and kept, room to spare, until the commit) is left behind.
   */
  private lastAppend: Chain | null = null;
  private readonly run: Rule[] = [];
  /** Chains whose rule arrays were grown otherwise (`compact` gives them arrays of their own length). */
  private readonly grown: Chain[] = [];

  constructor(
    readonly name: TableName,
    from: TableState,
    /** The live table it started from, or null for a fresh one. */
    private readonly base: ReadonlyMap<string, Chain>,
    fresh: boolean,
  ) {
    this.exists = from.exists;
    this.count = base.size;
    // A small table is copied whole: the commit then takes the copy as the live table, so a load that creates a
    // hundred thousand chains (kube-proxy's first sync) does not insert each into a second map.
    if (fresh || base.size <= SMALL_TABLE) this.whole = new Map(base);
  }

  /** Ends the current run of appends: its rules join the chain's. */
  private endRun(): void {
    const c = this.lastAppend;
    this.lastAppend = null;
    if (c === null || this.run.length === 0) return;
    if (c.rules.length === 0) {
      c.rules = this.run.slice();
      // A short chain is summarised now, while its rules were just made, rather than by the commit's check after
      // the whole load (kube-proxy's hundred thousand short chains are each written in one run). A long one may be
      // written again as it was (KUBE-SERVICES): the commit then carries its old summary over instead.
      if (c.rules.length <= SHORT_RUN) chainSummary(c, this.name);
    } else {
      // A chain appended to in many runs (kube-proxy interleaves KUBE-SERVICES with each Service's chains) grows in
      // place: a copy per run would cost the square of its length.
      for (const r of this.run) c.rules.push(r);
      this.grown.push(c);
    }
    this.run.length = 0;
  }

  /** The chain named `name` as this transaction sees it. */
  get(name: string): Chain | undefined {
    if (this.run.length !== 0) this.endRun();
    return this.peek(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return this.whole !== null ? this.whole.size : this.count;
  }

  /** Each chain in table order (as `values`), without an iterator result per chain. */
  forEach(fn: (c: Chain) => void): void {
    if (this.run.length !== 0) this.endRun();
    if (this.whole !== null) {
      this.whole.forEach(fn);
      return;
    }
    const { over } = this;
    if (over.size === 0) this.base.forEach(fn);
    else
      this.base.forEach((c, n) => {
        const o = over.get(n);
        if (o === undefined) fn(c);
        else if (o !== null) fn(o);
      });
    this.added.forEach(fn);
  }

  /** Chains in table order: the live table's (replaced ones in place, deleted ones gone), then created ones. */
  values(): Chain[] {
    const out: Chain[] = [];
    this.forEach((c) => {
      out.push(c);
    });
    return out;
  }

  private own(c: Chain): void {
    c.owner = this.token;
  }

  private set(name: string, c: Chain): void {
    this.endRun();
    this.forgetDeclared();
    if (this.whole !== null) {
      this.whole.set(name, c);
      return;
    }
    if (this.added.has(name)) this.added.set(name, c);
    else if (this.base.has(name) && this.over.get(name) !== null) this.over.set(name, c);
    else {
      this.added.set(name, c);
      this.count++;
    }
  }

  private remove(name: string): void {
    this.endRun();
    this.forgetDeclared();
    if (this.whole !== null) {
      this.whole.delete(name);
      return;
    }
    if (this.added.delete(name)) this.count--;
    else if (this.base.has(name) && this.over.get(name) !== null) {
      this.over.set(name, null);
      this.count--;
    }
  }

  /** The chain, copied first if it is still the live table's, ready to be changed. */
  private mut(name: string, pos?: SrcPos): Chain {
    const c = this.chain(name, pos);
    if (c.owner === this.token) return c;
    const copy = withRules(c, [...c.rules]);
    this.own(copy);
    this.set(name, copy);
    return copy;
  }

  private err(message: string, pos?: SrcPos): IptablesError {
    return new IptablesError(message, pos);
  }

  chain(name: string, pos?: SrcPos): Chain {
    const c = this.get(name);
    if (c === undefined) throw this.err(MSG.noChain, pos);
    return c;
  }

  /** Rules jumping or going to `name`. */
  references(name: string): number {
    let n = 0;
    for (const c of this.values()) for (const r of c.rules) if (jumpToOf(r) === name) n++;
    return n;
  }

  /** -A CHAIN with one rule; false (and nothing changed) when there is no such chain. */
  appendRule(chain: string, rule: Rule): boolean {
    let c = this.lastAppend;
    if (c === null || c.name !== chain) {
      this.endRun();
      c = this.nextDeclaredNamed(chain);
      if (c === null) {
        const found = this.get(chain);
        if (found === undefined) return false;
        c = found.owner === this.token ? found : this.mut(chain);
      }
      this.lastAppend = c;
    }
    this.run.push(rule);
    this.exists = true;
    return true;
  }

  append(chain: string, rules: readonly Rule[], pos?: SrcPos): void {
    const c = this.mut(chain, pos);
    for (const r of rules) c.rules.push(r);
    this.grown.push(c);
    this.exists = true;
  }

  /** -I CHAIN N (1-based). */
  insert(chain: string, n: number, rules: readonly Rule[], pos?: SrcPos): void {
    const c = this.mut(chain, pos);
    if (n < 1 || n > c.rules.length + 1) throw this.err(MSG.insert, pos);
    c.rules.splice(n - 1, 0, ...rules);
    this.grown.push(c);
    this.exists = true;
  }

  /** -R CHAIN N. */
  replace(chain: string, n: number, rule: Rule, pos?: SrcPos): void {
    const c = this.mut(chain, pos);
    if (n < 1 || n > c.rules.length) throw this.err(MSG.replace, pos);
    c.rules[n - 1] = rule;
    this.exists = true;
  }

  /** -D CHAIN N. */
  deleteNum(chain: string, n: number, pos?: SrcPos): void {
    const c = this.mut(chain, pos);
    if (n < 1 || n > c.rules.length) throw this.err(MSG.del, pos);
    c.rules.splice(n - 1, 1);
    this.grown.push(c);
  }

  /** -D CHAIN RULE: the first rule with exactly this save text. */
  deleteSpec(chain: string, text: string, pos?: SrcPos): void {
    const i = this.chain(chain, pos).rules.findIndex((r) => r.text === text);
    if (i < 0) throw this.err(MSG.badRule, pos);
    const c = this.mut(chain, pos);
    c.rules.splice(i, 1);
    this.grown.push(c);
  }

  /** -C CHAIN RULE. */
  check(chain: string, text: string, pos?: SrcPos): void {
    if (!this.chain(chain, pos).rules.some((r) => r.text === text)) throw this.err(MSG.badRule, pos);
  }

  /**
   * iptables-restore's `:NAME` for a user chain (whose name the reader checked as -N does): flushed when it
   * exists, created when not. One lookup of the name instead of the several -F or -N would make.
   */
  declareChain(name: string, pos?: SrcPos): void {
    // Its own change of the table (`set`) forgets the list; the declared chain joins it instead.
    const { declared, nextDeclared, nextTarget } = this;
    const c = this.get(name);
    const made = c === undefined ? this.newChain(name, pos, true) : this.emptied(name, c);
    this.declared = declared;
    this.nextDeclared = nextDeclared;
    this.nextTarget = nextTarget;
    declared.push(made);
  }

  private forgetDeclared(): void {
    this.declared = [];
    this.nextDeclared = 0;
    this.nextTarget = 0;
  }

  /**
   * The chain name that is `doc` from `from` to `to` (a jump target of a rule being loaded), as the very string a
   * chain of that name holds when one is found cheaply: the chain declared after the last one named so, one of the
   * next few declared after the chain being appended to, or the last name looked up (then by one lookup). kube-proxy
   * declares each Service's chains in the order its rules then jump to them, and jumps to KUBE-MARK-MASQ from most of
   * the others. Later lookups by such a name find its hash computed and compare one pointer (validation looks up
   * every jump of a hundred thousand chains), and no string is cut out of the document for it. Otherwise the text
   * itself, cut out.
   */
  jumpName(doc: string, from: number, to: number): string {
    const len = to - from;
    const d = this.declared;
    if (this.nextTarget < d.length) {
      const hit = this.declaredAt(this.nextTarget, doc, from, len);
      if (hit !== null) {
        this.nextTarget++;
        return hit;
      }
    }
    const last = this.lastTarget;
    if (last.length === len && textAt(doc, from, last)) return last;
    const end = Math.min(d.length, this.nextDeclared + 16);
    for (let k = this.nextDeclared; k < end; k++) {
      const hit = this.declaredAt(k, doc, from, len);
      if (hit !== null) {
        this.nextTarget = k + 1;
        return hit;
      }
    }
    const text = doc.slice(from, to);
    const c = this.peek(text);
    this.lastTarget = c === undefined ? text : c.name;
    return this.lastTarget;
  }

  /** The name of the `k`th declared chain if `doc` holds it at `from` (`len` characters long), else null. */
  private declaredAt(k: number, doc: string, from: number, len: number): string | null {
    const name = this.declared[k]!.name;
    return name.length === len && textAt(doc, from, name) ? name : null;
  }

  /** The chain named `name`, looked up without ending the current run of appends (`get` ends it first). */
  private peek(name: string): Chain | undefined {
    if (this.whole !== null) return this.whole.get(name);
    // Empty maps are not searched: a sync's transaction mostly only adds chains, or only replaces them.
    const a = this.added.size === 0 ? undefined : this.added.get(name);
    if (a !== undefined) return a;
    const o = this.over.size === 0 ? undefined : this.over.get(name);
    if (o !== undefined) return o === null ? undefined : o;
    return this.base.get(name);
  }

  /** The chain named `name` if it is among the next few declared ones (see `declared`), else null. */
  private nextDeclaredNamed(name: string): Chain | null {
    const d = this.declared;
    const end = Math.min(d.length, this.nextDeclared + 8);
    for (let k = this.nextDeclared; k < end; k++) {
      if (d[k]!.name === name) {
        this.nextDeclared = k + 1;
        return d[k]!;
      }
    }
    return null;
  }

  /** -N NAME (`absent`: the caller knows no chain has the name and has checked the name already). */
  newChain(name: string, pos?: SrcPos, absent = false): Chain {
    if (!absent) checkChainName(name, pos);
    if (!absent && this.has(name)) throw this.err(MSG.exists, pos);
    const c = newChain(name, null);
    this.own(c);
    if (absent && this.whole === null && !this.base.has(name)) {
      // A name the live table never had: created at the end, as `set` would.
      this.endRun();
      this.added.set(name, c);
      this.count++;
    } else this.set(name, c);
    this.exists = true;
    return c;
  }

  private deletable(c: Chain, pos?: SrcPos): void {
    if (c.rules.length > 0) throw this.err(MSG.notEmpty, pos);
    if (this.references(c.name) > 0) throw this.err(MSG.links, pos);
  }

  /** -X [NAME]: one empty, unreferenced user chain, or every user chain (all or nothing). */
  deleteChain(name: string | undefined, pos?: SrcPos): void {
    if (name !== undefined) {
      const c = this.get(name);
      if (c === undefined || c.policy !== null) throw this.err(MSG.noChain, pos);
      this.deletable(c, pos);
      this.remove(name);
      return;
    }
    const users = this.userChains();
    for (const c of users) {
      if (c.rules.length > 0) throw this.err(MSG.notEmpty, pos);
    }
    const doomed = new Set(users.map((c) => c.name));
    for (const c of this.values()) {
      if (doomed.has(c.name)) continue;
      for (const r of c.rules) {
        const to = jumpToOf(r);
        if (to !== undefined && doomed.has(to)) throw this.err(MSG.links, pos);
      }
    }
    for (const n of doomed) this.remove(n);
  }

  /** -F [NAME]. */
  flush(name: string | undefined, pos?: SrcPos): void {
    if (name !== undefined) {
      this.empty(name, pos);
      return;
    }
    const full: string[] = [];
    for (const c of this.values()) if (c.rules.length > 0) full.push(c.name);
    for (const n of full) this.empty(n);
  }

  /** The chain without rules (a flushed live chain is replaced by an empty copy, not copied and cleared). */
  private empty(name: string, pos?: SrcPos): void {
    this.emptied(name, this.chain(name, pos));
  }

  /** `c`, the chain named `name`, without rules. */
  private emptied(name: string, c: Chain): Chain {
    if (c.owner === this.token) {
      c.rules.length = 0;
      return c;
    }
    const copy = withRules(c, []);
    this.own(copy);
    this.set(name, copy);
    return copy;
  }

  /** -Z [NAME [N]]: counters are reset when the transaction commits. */
  zero(name: string | undefined, rulenum: number | undefined, pos?: SrcPos): void {
    const chains = name !== undefined ? [this.chain(name, pos)] : [...this.values()];
    for (const c of chains) {
      if (rulenum !== undefined) {
        const r = c.rules[rulenum - 1];
        if (r === undefined) throw this.err(MSG.noChain, pos);
        this.zeroes.push(r.counters);
        continue;
      }
      if (c.policy !== null) this.zeroes.push(c.counters);
      for (const r of c.rules) this.zeroes.push(r.counters);
    }
  }

  /** -P NAME POLICY. */
  setPolicy(name: string, policy: string, pos?: SrcPos, counters?: { packets: number; bytes: number }): void {
    const live = this.get(name);
    if (live === undefined || live.policy === null) throw this.err(MSG.builtin, pos);
    if (policy !== 'ACCEPT' && policy !== 'DROP') throw this.err(MSG.policy, pos);
    const c = this.mut(name, pos);
    c.policy = policy;
    if (counters) c.counters = { ...counters };
    this.exists = true;
  }

  /** -E OLD NEW: rules that jump to OLD jump to NEW afterwards (the kernel refers to chains, not names). */
  rename(from: string, to: string, pos?: SrcPos, toPos?: SrcPos): void {
    const c = this.get(from);
    if (c === undefined || c.policy !== null) throw this.err(MSG.noChain, pos);
    checkChainName(to, toPos ?? pos);
    if (this.has(to)) throw this.err(MSG.fileExists, toPos ?? pos);
    // The renamed chain keeps its place: only a whole map can say that.
    const whole = new Map<string, Chain>();
    for (const ch of this.values()) {
      if (ch.name !== from) whole.set(ch.name, ch);
      else {
        const renamed = { ...ch, name: to };
        if (ch.owner === this.token) this.own(renamed);
        whole.set(to, renamed);
      }
    }
    this.endRun();
    this.whole = whole;
    this.forgetDeclared();
    for (const [n, live] of whole) {
      if (!live.rules.some((r) => jumpToOf(r) === from)) continue;
      const ch = this.mut(n);
      ch.rules = ch.rules.map((r) => {
        if (jumpToOf(r) !== from) return r;
        // The rewritten rule has no `-j` word of its own (errors about it point at the rule).
        return makeRule({
          src: r.src,
          dst: r.dst,
          inIface: r.inIface,
          outIface: r.outIface,
          proto: r.proto,
          fragment: r.fragment,
          matches: r.matches,
          target: new JumpTarget(to, r.target?.goto === true),
          counters: r.counters,
          ...(r.pos ? { pos: r.pos } : {}),
        });
      });
    }
    this.exists = true;
  }

  /** Built-in chains in hook order, then user chains sorted by name, as iptables lists and saves them. */
  ordered(): Chain[] {
    const builtins = BUILTIN_CHAINS[this.name].map((n) => this.get(n)!);
    return [...builtins, ...this.userChains()];
  }

  userChains(): Chain[] {
    return [...this.values()]
      .filter((c) => c.policy === null)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Counter resets queued by -Z, applied at commit. */
  pendingZeroes(): readonly { packets: number; bytes: number }[] {
    return this.zeroes;
  }

  /**
   * The chains changed and deleted relative to the live table the transaction began on, or null when it keeps a
   * whole map (the change is then found by comparing).
   */
  delta(): TableDelta | null {
    if (this.whole !== null) return null;
    const changed: string[] = [];
    const deleted: string[] = [];
    const replaced: string[] = [];
    for (const [n, c] of this.over) {
      if (c !== null) {
        if (c !== this.base.get(n)) {
          changed.push(n);
          replaced.push(n);
        }
      } else if (!this.added.has(n)) deleted.push(n);
      else replaced.push(n);
    }
    this.added.forEach((_, n) => {
      changed.push(n);
    });
    return { changed, deleted, replaced };
  }

  /**
   * Gives every chain this transaction wrote a rule array of its own length: an array grown by appends keeps room
   * for more (sixteen slots for a chain of two rules), and kube-proxy writes a hundred thousand short chains (runs
   * of appends get such arrays as they end). Called before the table is checked, since what is derived from a chain
   * records its rule array.
   */
  compact(): void {
    this.endRun();
    for (const c of this.grown) if (c.rules.length < 16 && c.rules.length > 0) c.rules = c.rules.slice();
    this.grown.length = 0;
  }

  /**
   * The map that holds the working table once committed: the transaction's own whole map (it is not used again), or
   * `live` (the map it began on) with the changes made to it.
   */
  applyTo(live: Map<string, Chain>): Map<string, Chain> {
    if (this.whole !== null) return this.whole;
    // forEach, not for…of over entries: this runs once per commit, mostly unoptimised, over up to a hundred
    // thousand chains, and each entry read by for…of is an array of its own.
    this.over.forEach((c, n) => {
      if (c === null) live.delete(n);
      else live.set(n, c);
    });
    // A chain deleted and created again moves to the end, as it would in a copied Map.
    this.added.forEach((c, n) => {
      live.set(n, c);
    });
    return live;
  }
}

export interface NetfilterStateOptions {
  /** The namespace's nfacct objects; when given, `-m nfacct` must name one that exists (as the kernel demands). */
  nfacct?: NfacctStore;
  /** Validate every commit over the whole table (the reference the incremental check is tested against). */
  fullValidation?: boolean;
}

/** All tables of one namespace. */
export class NetfilterState {
  /** Bumped on every successful commit; caches keyed on it stay valid. */
  generation = 0;
  private tables: Record<TableName, TableState>;
  /** Each table as it last passed validation (lets a small commit be checked without the whole table). */
  private validated: Partial<Record<TableName, ValidatedTable>> = {};
  readonly nfacct: NfacctStore | undefined;
  private readonly fullValidation: boolean;
  /** Commits per table, and the count each open transaction began at. */
  private readonly versions: Record<TableName, number> = { raw: 0, mangle: 0, nat: 0, filter: 0 };
  private readonly began = new WeakMap<TableTxn, number>();
  private readonly observers: ((change: TableChange) => void)[] = [];

  constructor(opts: NetfilterStateOptions = {}) {
    this.tables = {
      raw: freshTable('raw'),
      mangle: freshTable('mangle'),
      nat: freshTable('nat'),
      filter: freshTable('filter'),
    };
    this.nfacct = opts.nfacct;
    this.fullValidation = opts.fullValidation ?? false;
  }

  table(name: TableName): Readonly<TableState> {
    return this.tables[name];
  }

  /** Tables that exist, in the order iptables-save (nf_tables) prints them. */
  existingTables(): TableName[] {
    return SAVE_ORDER.filter((t) => this.tables[t].exists);
  }

  chain(table: TableName, name: string): Chain | undefined {
    return this.tables[table].chains.get(name);
  }

  /** Built-in chains in hook order, then user chains by name. */
  chains(table: TableName): Chain[] {
    const t = this.tables[table];
    const builtins = BUILTIN_CHAINS[table].map((n) => t.chains.get(n)!);
    const users = [...t.chains.values()]
      .filter((c) => c.policy === null)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return [...builtins, ...users];
  }

  /** Rules of `table` that jump or go to `chain` (the references `iptables -L` shows). */
  references(table: TableName, chain: string): number {
    let n = 0;
    for (const c of this.tables[table].chains.values()) for (const r of c.rules) if (jumpToOf(r) === chain) n++;
    return n;
  }

  /** A working copy of `table`; nothing changes until `commit`. */
  begin(table: TableName): TableTxn {
    const t = this.tables[table];
    const txn = new TableTxn(table, t, t.chains, false);
    this.began.set(txn, this.versions[table]);
    return txn;
  }

  /** A fresh empty table of the same name (what iptables-restore starts from without --noflush). */
  beginEmpty(table: TableName): TableTxn {
    const fresh = freshTable(table);
    const txn = new TableTxn(table, fresh, fresh.chains, true);
    txn.exists = true;
    return txn;
  }

  /** Tells `fn` which chains every later commit changed (netfilter recompiles only those). */
  observe(fn: (change: TableChange) => void): void {
    this.observers.push(fn);
  }

  /** Validates the working copy like the kernel and makes it live; throws IptablesError and changes nothing if refused. */
  commit(txn: TableTxn, where?: { restore?: boolean; line?: number }): void {
    const live = this.tables[txn.name];
    const began = this.began.get(txn);
    // A transaction records what it changed against the table it began on, which it then changes in place: one
    // that began before another commit would apply its changes to a table it never saw.
    if (began !== undefined && began !== this.versions[txn.name])
      throw new Error(`transaction on table ${txn.name} began before the last commit of that table`);
    txn.compact();
    const delta = began === undefined ? null : (txn.delta() ?? diff(live.chains, txn));
    if (delta !== null) {
      // A chain written again with the rules it had (kube-proxy's KUBE-SERVICES on every sync) keeps what was
      // worked out from them.
      for (const n of delta.replaced) {
        const old = live.chains.get(n);
        const cur = txn.get(n);
        if (old === undefined || cur === undefined || cur === old || !sameRules(old.rules, cur.rules)) continue;
        carrySummary(old, cur);
        carryIndex(old, cur);
      }
    }
    const prev = this.fullValidation || delta === null ? null : (this.validated[txn.name] ?? null);
    this.validated[txn.name] = validateTable(
      txn.name,
      txn,
      { nfacct: this.nfacct, ...(where ?? {}) },
      prev === null || delta === null ? null : { prev, old: live.chains, ...delta },
    );
    for (const c of txn.pendingZeroes()) {
      c.packets = 0;
      c.bytes = 0;
    }
    live.chains = txn.applyTo(live.chains);
    live.exists = txn.exists;
    this.versions[txn.name]++;
    this.began.delete(txn);
    this.generation++;
    const change: TableChange =
      delta === null
        ? { table: txn.name, names: null }
        : { table: txn.name, names: [...delta.changed, ...delta.deleted] };
    for (const fn of this.observers) fn(change);
  }

  /** Runs `fn` on a working copy of `table` and commits it. */
  update(table: TableName, fn: (txn: TableTxn) => void): void {
    const txn = this.begin(table);
    fn(txn);
    this.commit(txn);
  }
}

/** The chains of `next` that differ from `old`, and those gone from it (a whole-map transaction's change). */
function diff(old: ReadonlyMap<string, Chain>, next: TableTxn): TableDelta {
  const changed: string[] = [];
  const replaced: string[] = [];
  let kept = 0;
  next.forEach((c) => {
    const o = old.get(c.name);
    if (o !== undefined) kept++;
    if (o !== c) {
      changed.push(c.name);
      if (o !== undefined) replaced.push(c.name);
    }
  });
  const deleted: string[] = [];
  if (kept < old.size) for (const n of old.keys()) if (!next.has(n)) deleted.push(n);
  return { changed, deleted, replaced };
}

/** iptables-save (nf_tables) prints tables in its own fixed order. */
export const SAVE_ORDER: readonly TableName[] = ['mangle', 'raw', 'filter', 'nat'];
