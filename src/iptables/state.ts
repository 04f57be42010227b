// The netfilter tables of one namespace (raw, mangle, nat, filter) with their built-in chains and policies, user
// chains and counters, changed the way the kernel and iptables change them: every command is a transaction on a
// copy of one table that is validated like the kernel validates a new ruleset (translate_table / nft's chain
// validation: jump targets exist, no jump loop reachable from a built-in chain, every target and match allowed in
// its table and in every hook that reaches it) and then swapped in, bumping `generation`. A table springs into
// existence on the first command that writes it (as with iptables-nft; -L, -F, -Z and -C do not create it).
// Rules keep their counter objects across commits, so counts survive unrelated changes.

import { IptablesError } from './errors.js';
import { KNOWN_TARGETS } from './ext.js';
import type { NfacctStore } from './matches/nfacct.js';
import { MAX_CHAIN_NAME, makeRule } from './rule-spec.js';
import { JumpTarget } from './targets/standard.js';
import { BUILTIN_CHAINS, type Chain, type Policy, type Rule, type SrcPos, type TableName } from './types.js';
import { type ValidatedTable, validateTable } from './validate.js';

export interface TableState {
  readonly name: TableName;
  /** The table exists (a write created it); iptables-save prints only existing tables. */
  exists: boolean;
  readonly chains: Map<string, Chain>;
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

function newChain(name: string, policy: Policy | null): Chain {
  return { name, policy, rules: [], counters: { packets: 0, bytes: 0 } };
}

function freshTable(name: TableName): TableState {
  const chains = new Map<string, Chain>();
  for (const c of BUILTIN_CHAINS[name]) chains.set(c, newChain(c, 'ACCEPT'));
  return { name, exists: false, chains };
}

/**
 * A working copy of one table. Chains are copied (their rule arrays too) but rules and counter objects are shared
 * with the live table until `commit` swaps the copy in.
 */
export class TableTxn {
  readonly chains: Map<string, Chain>;
  exists: boolean;
  /** Counter resets applied only if the transaction commits. */
  private zeroes: { packets: number; bytes: number }[] = [];

  constructor(
    readonly name: TableName,
    from: TableState,
  ) {
    this.exists = from.exists;
    // Copy-on-write: the live chains are shared until a command changes one (see `mut`). Copying every chain and
    // rule array on each command made one command cost the whole table, so a node's N-th pod paid for the N-1
    // masquerade chains before it, and unchanged chains lost their compiled traversal index at every commit.
    this.chains = new Map(from.chains);
  }

  /** Chains this transaction already copied (its own, safe to change in place). */
  private readonly owned = new Set<Chain>();

  /** The chain, copied first if it is still the live table's, ready to be changed. */
  private mut(name: string, pos?: SrcPos): Chain {
    const c = this.chain(name, pos);
    if (this.owned.has(c)) return c;
    const copy: Chain = { ...c, rules: [...c.rules] };
    this.owned.add(copy);
    this.chains.set(name, copy);
    return copy;
  }

  private err(message: string, pos?: SrcPos): IptablesError {
    return new IptablesError(message, pos);
  }

  chain(name: string, pos?: SrcPos): Chain {
    const c = this.chains.get(name);
    if (c === undefined) throw this.err(MSG.noChain, pos);
    return c;
  }

  /** Rules jumping or going to `name`. */
  references(name: string): number {
    let n = 0;
    for (const c of this.chains.values()) for (const r of c.rules) if (r.target?.jumpTo === name) n++;
    return n;
  }

  append(chain: string, rules: readonly Rule[], pos?: SrcPos): void {
    this.mut(chain, pos).rules.push(...rules);
    this.exists = true;
  }

  /** -I CHAIN N (1-based). */
  insert(chain: string, n: number, rules: readonly Rule[], pos?: SrcPos): void {
    const c = this.mut(chain, pos);
    if (n < 1 || n > c.rules.length + 1) throw this.err(MSG.insert, pos);
    c.rules.splice(n - 1, 0, ...rules);
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
  }

  /** -D CHAIN RULE: the first rule with exactly this save text. */
  deleteSpec(chain: string, text: string, pos?: SrcPos): void {
    const i = this.chain(chain, pos).rules.findIndex((r) => r.text === text);
    if (i < 0) throw this.err(MSG.badRule, pos);
    this.mut(chain, pos).rules.splice(i, 1);
  }

  /** -C CHAIN RULE. */
  check(chain: string, text: string, pos?: SrcPos): void {
    if (!this.chain(chain, pos).rules.some((r) => r.text === text)) throw this.err(MSG.badRule, pos);
  }

  /** -N NAME. */
  newChain(name: string, pos?: SrcPos): void {
    checkChainName(name, pos);
    if (this.chains.has(name)) throw this.err(MSG.exists, pos);
    const c = newChain(name, null);
    this.owned.add(c);
    this.chains.set(name, c);
    this.exists = true;
  }

  private deletable(c: Chain, pos?: SrcPos): void {
    if (c.rules.length > 0) throw this.err(MSG.notEmpty, pos);
    if (this.references(c.name) > 0) throw this.err(MSG.links, pos);
  }

  /** -X [NAME]: one empty, unreferenced user chain, or every user chain (all or nothing). */
  deleteChain(name: string | undefined, pos?: SrcPos): void {
    if (name !== undefined) {
      const c = this.chains.get(name);
      if (c === undefined || c.policy !== null) throw this.err(MSG.noChain, pos);
      this.deletable(c, pos);
      this.chains.delete(name);
      return;
    }
    const users = this.userChains();
    for (const c of users) {
      if (c.rules.length > 0) throw this.err(MSG.notEmpty, pos);
    }
    const doomed = new Set(users.map((c) => c.name));
    for (const c of this.chains.values()) {
      if (doomed.has(c.name)) continue;
      for (const r of c.rules) if (r.target?.jumpTo && doomed.has(r.target.jumpTo)) throw this.err(MSG.links, pos);
    }
    for (const n of doomed) this.chains.delete(n);
  }

  /** -F [NAME]. */
  flush(name: string | undefined, pos?: SrcPos): void {
    if (name !== undefined) this.mut(name, pos).rules.length = 0;
    else for (const [n, c] of this.chains) if (c.rules.length > 0) this.mut(n).rules.length = 0;
  }

  /** -Z [NAME [N]]: counters are reset when the transaction commits. */
  zero(name: string | undefined, rulenum: number | undefined, pos?: SrcPos): void {
    const chains = name !== undefined ? [this.chain(name, pos)] : [...this.chains.values()];
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
    const live = this.chains.get(name);
    if (live === undefined || live.policy === null) throw this.err(MSG.builtin, pos);
    if (policy !== 'ACCEPT' && policy !== 'DROP') throw this.err(MSG.policy, pos);
    const c = this.mut(name, pos);
    c.policy = policy;
    if (counters) c.counters = { ...counters };
    this.exists = true;
  }

  /** -E OLD NEW: rules that jump to OLD jump to NEW afterwards (the kernel refers to chains, not names). */
  rename(from: string, to: string, pos?: SrcPos, toPos?: SrcPos): void {
    const c = this.chains.get(from);
    if (c === undefined || c.policy !== null) throw this.err(MSG.noChain, pos);
    checkChainName(to, toPos ?? pos);
    if (this.chains.has(to)) throw this.err(MSG.fileExists, toPos ?? pos);
    const entries = [...this.chains.entries()].map(([n, ch]): [string, Chain] =>
      n === from ? [to, { ...ch, name: to }] : [n, ch],
    );
    this.chains.clear();
    for (const [n, ch] of entries) this.chains.set(n, ch);
    for (const [n, live] of this.chains) {
      if (!live.rules.some((r) => r.target?.jumpTo === from)) continue;
      const ch = this.mut(n);
      ch.rules = ch.rules.map((r) => {
        if (r.target?.jumpTo !== from) return r;
        const { text: _text, ...rest } = r;
        return makeRule({ ...rest, target: new JumpTarget(to, r.target.goto === true) });
      });
    }
    this.exists = true;
  }

  /** Built-in chains in hook order, then user chains sorted by name, as iptables lists and saves them. */
  ordered(): Chain[] {
    const builtins = BUILTIN_CHAINS[this.name].map((n) => this.chains.get(n)!);
    return [...builtins, ...this.userChains()];
  }

  userChains(): Chain[] {
    return [...this.chains.values()]
      .filter((c) => c.policy === null)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Counter resets queued by -Z, applied at commit. */
  pendingZeroes(): readonly { packets: number; bytes: number }[] {
    return this.zeroes;
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
    for (const c of this.tables[table].chains.values()) for (const r of c.rules) if (r.target?.jumpTo === chain) n++;
    return n;
  }

  /** A working copy of `table`; nothing changes until `commit`. */
  begin(table: TableName): TableTxn {
    return new TableTxn(table, this.tables[table]);
  }

  /** A fresh empty table of the same name (what iptables-restore starts from without --noflush). */
  beginEmpty(table: TableName): TableTxn {
    const txn = new TableTxn(table, freshTable(table));
    txn.exists = true;
    return txn;
  }

  /** Validates the working copy like the kernel and swaps it in; throws IptablesError and changes nothing if refused. */
  commit(txn: TableTxn, where?: { restore?: boolean; line?: number }): void {
    this.validated[txn.name] = validateTable(
      txn.name,
      txn.chains,
      { nfacct: this.nfacct, ...(where ?? {}) },
      this.fullValidation ? null : (this.validated[txn.name] ?? null),
    );
    for (const c of txn.pendingZeroes()) {
      c.packets = 0;
      c.bytes = 0;
    }
    this.tables[txn.name] = { name: txn.name, exists: txn.exists, chains: txn.chains };
    this.generation++;
  }

  /** Runs `fn` on a working copy of `table` and commits it. */
  update(table: TableName, fn: (txn: TableTxn) => void): void {
    const txn = this.begin(table);
    fn(txn);
    this.commit(txn);
  }
}

/** iptables-save (nf_tables) prints tables in its own fixed order. */
export const SAVE_ORDER: readonly TableName[] = ['mangle', 'raw', 'filter', 'nat'];
