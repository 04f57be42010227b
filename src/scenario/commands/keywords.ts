// Keyword lookup with iproute2's abbreviation rule. iproute2 tests keywords one after another with either
// strcmp() (exact) or matches() — "the word is a non-empty prefix of the keyword" — and takes the first hit, so
// `ip l` is `link` (it comes before `l2tp`), `ip a` is `address`, `ip n` is `neighbor`, `ip link s` is `set`.
// Tables here list keywords in iproute2's order with the same exact/prefix choice, including keywords we
// recognise but do not support, so that an abbreviation resolves as it would on Linux and then gets a clear
// "not supported" instead of silently meaning something else.

import type { Args } from './args.js';
import type { Token } from './tokenize.js';

export interface Keyword {
  name: string;
  id: string;
  /** Only the full word matches (iproute2 uses strcmp for it). */
  exact: boolean;
  unsupported: boolean;
}

/**
 * Builds a table from specs `[!][=]name[:id]`: `=` exact match only, `!` recognised but unsupported,
 * `:id` the value returned (defaults to the name).
 */
export function keywords(...specs: string[]): readonly Keyword[] {
  return specs.map((spec) => {
    let s = spec;
    const unsupported = s.startsWith('!');
    if (unsupported) s = s.slice(1);
    const exact = s.startsWith('=');
    if (exact) s = s.slice(1);
    const [name, id] = s.split(':') as [string, string | undefined];
    return { name, id: id ?? name, exact, unsupported };
  });
}

/** iproute2's matches(): `word` is a non-empty prefix of `keyword`. */
export function matches(word: string, keyword: string): boolean {
  return word.length > 0 && keyword.startsWith(word);
}

export function lookup(table: readonly Keyword[], word: string): Keyword | undefined {
  return table.find((k) => (k.exact ? word === k.name : matches(word, k.name)));
}

/** Names a table accepts, for error messages (aliases of one id appear once, unsupported ones not at all). */
export function accepted(table: readonly Keyword[]): string {
  const seen = new Set<string>();
  const names: string[] = [];
  for (const k of table) {
    if (k.unsupported || seen.has(k.id)) continue;
    seen.add(k.id);
    names.push(k.name);
  }
  return names.join(', ');
}

/** Fails on an option iproute2 knows but podwire does not model, naming what is supported there instead. */
export function unsupportedOption(args: Args, tok: Token, k: Keyword, context: string, supported: string): never {
  const shown = k.name === tok.text ? `'${k.name}'` : `'${tok.text}' (${k.name})`;
  return args.fail(tok, `option ${shown} is not supported in '${context}'; supported: ${supported}`);
}

/** Looks an option word up in `table`; an option marked unsupported is an error (see unsupportedOption). */
export function lookupOption(
  args: Args,
  table: readonly Keyword[],
  tok: Token,
  context: string,
  supported = accepted(table),
): Keyword | undefined {
  const k = lookup(table, tok.text);
  if (k?.unsupported) unsupportedOption(args, tok, k, context, supported);
  return k;
}

export interface KeywordContext {
  /** What the word is: `object`, `command`, `option`, `route type`… */
  what: string;
  /** The command so far, e.g. `ip route add`. */
  context: string;
}

/** Consumes the next word and resolves it; a missing word is an error listing what is accepted. */
export function nextKeyword(args: Args, table: readonly Keyword[], ctx: KeywordContext): { id: string; tok: Token } {
  if (args.done) {
    const after = args.last;
    args.fail(after, `missing ${ctx.what} after '${after.text}'; expected one of: ${accepted(table)}`);
  }
  const tok = args.next(ctx.what);
  return { id: resolve(args, tok, table, ctx), tok };
}

/** Resolves `tok` in `table`, or fails naming the word and what is accepted there. */
export function resolve(args: Args, tok: Token, table: readonly Keyword[], ctx: KeywordContext): string {
  const k = lookup(table, tok.text);
  if (k === undefined) {
    args.fail(tok, `unknown ${ctx.what} '${tok.text}' for '${ctx.context}'; expected one of: ${accepted(table)}`);
  }
  if (k.unsupported) {
    const full = `'${ctx.context} ${k.name}'`;
    const shown = k.name === tok.text ? full : `'${tok.text}' (${full})`;
    args.fail(tok, `${shown} is not supported; supported ${ctx.what}s: ${accepted(table)}`);
  }
  return k.id;
}
