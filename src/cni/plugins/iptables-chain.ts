// A plugin-owned iptables chain as the reference plugins manage one (containernetworking/plugins portmap chain.go
// with pkg/utils/iptables.go and go-iptables): `setup` creates the chain if missing, appends each rule unless an
// identical one exists (`-C` first), then puts the jumps into the entry chains (appended, or inserted at the top
// with `prependEntry`); `teardown` removes the jumps and the chain, finding leftover jumps "the hard way" by
// listing the entry chains with `-S` and deleting every rule that ends in `-j <chain>`; `check` verifies the chain,
// its rules and its jumps. Commands go through podwire's iptables command line, so rules are parsed, normalised and
// saved exactly as `iptables` would do it. Failures read like go-iptables' errors.

import { IptablesError, iptables, netfilterOf } from '../../iptables/index.js';
import type { NetNs } from '../../netns/netns.js';
import { CniError } from '../types.js';

export interface IptChain {
  table: 'nat' | 'filter' | 'mangle' | 'raw';
  name: string;
  /** Chains that jump here. */
  entryChains: string[];
  /** The match part of each jump (`-j <name>` is added). */
  entryRules: string[][];
  rules: string[][];
  prependEntry?: boolean;
}

/** One iptables invocation; errors carry the command line as go-iptables reports it. */
export class Ipt {
  constructor(readonly ns: NetNs) {}

  run(words: string[]): string {
    try {
      return iptables(this.ns, words);
    } catch (e) {
      if (e instanceof IptablesError)
        throw new CniError(999, `running [iptables ${words.join(' ')} --wait]: exit status 1: ${e.message}`);
      throw e;
    }
  }

  chainExists(table: string, chain: string): boolean {
    return netfilterOf(this.ns).state.chain(table as IptChain['table'], chain) !== undefined;
  }

  /** `-C`: false when the rule (or its chain) is not there. */
  exists(table: string, chain: string, rule: string[]): boolean {
    try {
      iptables(this.ns, ['-t', table, '-C', chain, ...rule]);
      return true;
    } catch (e) {
      if (e instanceof IptablesError) return false;
      throw e;
    }
  }

  /** EnsureChain. */
  ensureChain(table: string, chain: string): void {
    if (!this.chainExists(table, chain)) this.run(['-t', table, '-N', chain]);
  }

  /** InsertUnique. */
  insertUnique(table: string, chain: string, prepend: boolean, rule: string[]): void {
    if (this.exists(table, chain, rule)) return;
    this.run(prepend ? ['-t', table, '-I', chain, '1', ...rule] : ['-t', table, '-A', chain, ...rule]);
  }

  /** `-S chain` lines (the first is the chain's own `-N`/`-P` line). */
  list(table: string, chain: string): string[] {
    return this.run(['-t', table, '-S', chain])
      .split('\n')
      .filter((l) => l !== '');
  }

  /** ClearAndDeleteChain: nothing when absent, else `-F` then `-X`. */
  clearAndDeleteChain(table: string, chain: string): void {
    if (!this.chainExists(table, chain)) return;
    this.run(['-t', table, '-F', chain]);
    this.run(['-t', table, '-X', chain]);
  }
}

/** Go's %s of a [][]string. */
export function formatRules(rules: string[][]): string {
  return `[${rules.map((r) => `[${r.join(' ')}]`).join(' ')}]`;
}

/** go-shellwords as chain.go uses it on `-S` output: blanks split, quotes group, backslash escapes. */
export function shellwords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < line.length && (quote === null || line[i + 1] === '"' || line[i + 1] === '\\')) {
      cur += line[++i];
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote !== null) throw new CniError(999, `error parsing iptables rule: ${line}: invalid command line string`);
  if (inWord) out.push(cur);
  return out;
}

export function setupChain(ipt: Ipt, c: IptChain): void {
  ipt.ensureChain(c.table, c.name);
  for (const rule of c.rules) ipt.insertUnique(c.table, c.name, false, rule);
  for (const entry of c.entryChains)
    for (const rule of c.entryRules) ipt.insertUnique(c.table, entry, c.prependEntry ?? false, [...rule, '-j', c.name]);
}

export function teardownChain(ipt: Ipt, c: IptChain): void {
  if (!ipt.chainExists(c.table, c.name)) return;
  for (const entry of c.entryChains)
    for (const rule of c.entryRules) {
      try {
        ipt.run(['-t', c.table, '-D', entry, ...rule, '-j', c.name]);
      } catch {
        // go-iptables' Delete errors are ignored here; the hard way below catches what is left.
      }
    }
  try {
    ipt.clearAndDeleteChain(c.table, c.name);
    return;
  } catch {
    // Something still jumps to the chain.
  }
  for (const entry of c.entryChains) {
    if (!ipt.chainExists(c.table, entry)) continue;
    for (const line of ipt.list(c.table, entry).slice(1)) {
      if (!line.endsWith(`-j ${c.name}`)) continue;
      const parts = shellwords(line).slice(2);
      try {
        ipt.run(['-t', c.table, '-D', entry, ...parts]);
      } catch (e) {
        if (!(e instanceof CniError) || !/No chain|does a matching rule exist|Bad rule/.test(e.message))
          throw new CniError(999, `Failed to delete referring rule ${c.table} ${entry}: ${(e as Error).message}`);
      }
    }
  }
  ipt.clearAndDeleteChain(c.table, c.name);
}

export function checkChain(ipt: Ipt, c: IptChain): void {
  if (!ipt.chainExists(c.table, c.name))
    throw new CniError(999, `chain ${c.name} not found in iptables table ${c.table}`);
  for (let i = c.rules.length - 1; i >= 0; i--)
    if (!ipt.exists(c.table, c.name, c.rules[i]!))
      throw new CniError(999, `rule ${formatRules(c.rules)} in chain ${c.name} not found in table ${c.table}`);
  for (const entry of c.entryChains)
    for (let i = c.entryRules.length - 1; i >= 0; i--)
      if (!ipt.exists(c.table, entry, [...c.entryRules[i]!, '-j', c.name]))
        throw new CniError(999, `rule ${formatRules(c.entryRules)} in chain ${entry} not found in table ${c.table}`);
}
