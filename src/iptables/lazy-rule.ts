// A rule loaded by iptables-restore that is kept as its text until something needs its parts. The line was parsed in
// full when it was loaded, or was of a shape of line parsed in full before (lazy-line.ts), so every refusal was
// reported then; and what the load-time checks need — the chain it jumps to, the tables and hooks its target and
// matches allow, whether it needs conntrack, its nfacct objects — was kept (a shared RuleKind and the jump); the match
// and target instances were not. The first packet that walks its chain, a listing, a save or a check of the rule parses
// the text again (restore-fast.ts, the same reading) and keeps the result. kube-proxy loads a hundred thousand short
// KUBE-SVC/KUBE-SEP chains in one payload and packets visit few of them: held as text they cost about a third of the
// memory, which is also what the garbage collector has to copy while the payload loads. Only saved-form,
// single-address, stateless rules of plain documents are kept this way. A rule refers to its text in the document it
// was loaded from when such rules make up most of that document (the document is then kept while any of them lives:
// at most about one full sync's payload beyond the rules' own size), else it holds a copy of its own.

import type { ProtoSpec } from './ext.js';
import { parseSavedRule } from './restore-fast.js';
import { partText, type RuleTemplate, templateOf } from './rule-spec.js';
import type { AddrSpec, IfaceSpec, Match, Rule, RuleFacts, SrcPos, Target } from './types.js';

/** What a rule's facts hold apart from its jump (shared by the many rules that have the same). */
export type RuleKind = Omit<RuleFacts, 'jumpTo'>;

const kinds = new Map<string, RuleKind>();

/** One shared object per distinct kind (rules without nfacct objects; others keep their own). */
export function ruleKind(f: RuleFacts): RuleKind {
  if (f.nfacct.length !== 0) return { tables: f.tables, hooks: f.hooks, conntrack: f.conntrack, nfacct: f.nfacct };
  const key = `${f.tables?.join(',') ?? '*'}|${f.hooks}|${f.conntrack}`;
  let k = kinds.get(key);
  if (k === undefined) {
    k = { tables: f.tables, hooks: f.hooks, conntrack: f.conntrack, nfacct: f.nfacct };
    kinds.set(key, k);
  }
  return k;
}

/** The chain a rule jumps or goes to, without building a rule that is not built yet. */
export function jumpToOf(r: Rule): string | undefined {
  return r instanceof LazyRule ? r.jumpTo : r.target?.jumpTo;
}

/**
 * A copy of `text` that does not keep the document it was cut from alive: the two halves joined make a cons
 * string, reading it flattens it into a string of its own, and the garbage collector then drops the cons wrapper.
 */
export function ownCopy(text: string): string {
  if (text.length < 2) return text;
  const c = text.slice(0, 1) + text.slice(1);
  c.charCodeAt(0);
  return c;
}

/**
 * A rule kept as text. Made by `lazyRule` as an object literal, not with `new`: V8 allocates objects of a literal
 * that keep surviving straight into the old generation, so the hundreds of thousands a payload loads are not copied
 * through the young one by every scavenge on the way (class instances always are). The fields are not private for
 * the same reason; only the loader (restore.ts, which decides whose text is copied) reads them from outside.
 */
export class LazyRule implements Rule {
  declare packets: number;
  declare bytes: number;
  /** The rule's text is `_doc` from `_from` to `_to`: the document it was loaded from, or a copy of its own. */
  declare _doc: string;
  declare _from: number;
  declare _to: number;
  declare readonly _kind: RuleKind;
  declare _jumpTo: string | undefined;
  declare readonly _file: string;
  declare readonly _line: number;
  /** Column of the target word (-1: none). */
  declare readonly _col: number;
  declare _t: RuleTemplate | null;

  private constructor() {
    throw new Error('internal: a LazyRule is made by lazyRule()');
  }

  /** Whether the parts have been built. */
  get built(): boolean {
    return this._t !== null;
  }

  /** What the load-time checks need apart from the jump (valid whether built or not). */
  get kind(): RuleKind {
    return this._kind;
  }

  /** The chain the rule jumps or goes to, read without building the rule. */
  get jumpTo(): string | undefined {
    return this._jumpTo;
  }

  private parts(): RuleTemplate {
    if (this._t !== null) return this._t;
    // The chain only matters for the interface checks of built-in chains, which the line passed when loaded.
    const text = this._doc.slice(this._from, this._to);
    const saved = parseSavedRule(text, '-');
    if (saved === null) throw new Error(`internal: a loaded rule no longer parses: ${text}`);
    this._t = templateOf(saved.spec);
    return this._t;
  }

  get counters(): { packets: number; bytes: number } {
    return this;
  }

  get src(): AddrSpec | null {
    return this.parts().src;
  }

  get dst(): AddrSpec | null {
    return this.parts().dst;
  }

  get inIface(): IfaceSpec | null {
    return this.parts().inIface;
  }

  get outIface(): IfaceSpec | null {
    return this.parts().outIface;
  }

  get proto(): ProtoSpec | null {
    return this.parts().proto;
  }

  get fragment(): { inv: boolean } | null {
    return this.parts().fragment;
  }

  get matches(): Match[] {
    return this.parts().matches;
  }

  get target(): Target | null {
    return this.parts().target;
  }

  get text(): string {
    const t = this.parts();
    return partText(t, t);
  }

  get pos(): SrcPos {
    return { file: this._file, line: this._line, col: 1 };
  }

  get targetPos(): SrcPos | undefined {
    return this._col < 0 ? undefined : { file: this._file, line: this._line, col: this._col };
  }
}

/**
 * The rule whose text, the words after `-A CHAIN ` as they were loaded (in saved form), is `doc` from `from` to `to`;
 * `kind` is what they need apart from the jump, `jumpTo` the chain it jumps or goes to (the name as it is in the
 * text); the rule was on line `line` of `file`, its target word in column `col`. The rule refers to `doc`
 * without copying it: the loader either keeps the document (rules cut from it make up most of it) or gives each such
 * rule its own copy (`ownText`) once the document has been read.
 */
export function lazyRule(
  doc: string,
  from: number,
  to: number,
  kind: RuleKind,
  jumpTo: string | undefined,
  file: string,
  line: number,
  col: number,
): LazyRule {
  const r = {
    __proto__: LazyRule.prototype,
    packets: 0,
    bytes: 0,
    _doc: doc,
    _from: from,
    _to: to,
    _kind: kind,
    _jumpTo: jumpTo,
    _file: file,
    _line: line,
    _col: col,
    _t: null,
  };
  return r as unknown as LazyRule;
}

/** Gives a rule made by `lazyRule` a copy of its text (and jump name) that does not keep its document alive. */
export function ownText(r: LazyRule): void {
  const own = ownCopy(r._doc.slice(r._from, r._to));
  if (r._jumpTo !== undefined) r._jumpTo = ownCopy(r._jumpTo);
  r._doc = own;
  r._from = 0;
  r._to = own.length;
}
