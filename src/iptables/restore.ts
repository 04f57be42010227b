// iptables-restore: the document format (`*table`, `:CHAIN POLICY [p:b]`, command lines, `COMMIT`, `#` comment lines)
// with the tool's own word splitting (only double quotes quote, a backslash escapes inside them, a closing quote ends
// the word) and its semantics: without --noflush a table block starts from an empty table (user chains gone, policies
// ACCEPT); with --noflush only the chains declared with `:` are flushed (a built-in chain declared that way only gets
// its policy). `[p:b]` prefixes and policy counters apply with --counters only; `-c P B` in a rule always does. Every
// COMMIT is one atomic transaction, as in iptables-restore: an error in a later table leaves earlier COMMITs in place.
// Unlike the real tool, nothing is committed before the whole document has been read, so a syntax error anywhere
// changes nothing. An `-A CHAIN …` line whose text after the chain was parsed before is taken from the line cache
// (rule-cache.ts) instead of being parsed again; one in iptables-save's own form is read without getopt
// (restore-fast.ts); a rule of a plain document whose line the cache does not keep is held as its text until something
// needs it (lazy-rule.ts; what the load needs of it is learnt once per shape of line, lazy-line.ts). Rules keep their
// line and target column and make positions only for errors.

import { type Arg, failAt } from './args.js';
import { applyToTxn, type IptablesCommand, parseIptablesArgs } from './command.js';
import { IptablesError } from './errors.js';
import { KNOWN_TARGETS } from './ext.js';
import { found, type LazyLine, lazyLineAt } from './lazy-line.js';
import { type LazyRule, lazyRule, ownCopy, ownText } from './lazy-rule.js';
import { parseSavedRule } from './restore-fast.js';
import { cachedRuleLine, cacheRuleLine } from './rule-cache.js';
import { MAX_CHAIN_NAME, type RulePart, type RuleTemplate, ruleAtLine, ruleOf, templateOf } from './rule-spec.js';
import { checkChainName, isBuiltin, type NetfilterState, type TableTxn } from './state.js';
import { textAt } from './text-at.js';
import { type Rule, type SrcPos, TABLE_NAMES, type TableName } from './types.js';

export interface RestoreOptions {
  /** --noflush (-n). */
  noflush?: boolean;
  /** --counters (-c). */
  counters?: boolean;
}

/** Where a character of the document came from; lets a document embedded in another file report exact places. */
export type Locator = (offset: number) => { line: number; col: number };

export type RestoreOp =
  | {
      kind: 'chain';
      name: string;
      policy: string;
      counters?: { packets: number; bytes: number };
      pos: SrcPos;
      line: number;
    }
  | { kind: 'command'; command: IptablesCommand; line: number }
  /** `-A CHAIN …` of a plain document, kept as its text until needed (lazy-rule.ts). */
  | {
      kind: 'lazy';
      chain: string;
      /** The rule's text is `doc` from `from` to `to`. */
      doc: string;
      from: number;
      to: number;
      lazy: LazyLine;
      line: number;
      file: string;
      targetCol: number;
    }
  /** `-A CHAIN …`, parsed (or found in the line cache) into the template its rules are made from. */
  | {
      kind: 'append';
      chain: string;
      template: RuleTemplate;
      line: number;
      /**
       * A plain document's file: the positions (first word in column 1, the chain word in column 4, the `-j`/`-g`
       * word in `targetCol`, -1 for none) are made from it and the line when asked for. Null: they are given.
       */
      file: string | null;
      targetCol: number;
      pos?: SrcPos;
      targetPos?: SrcPos | undefined;
      chainPos?: SrcPos;
    };

export interface RestoreBlock {
  table: TableName;
  pos: SrcPos;
  ops: RestoreOp[];
  /** Line of the COMMIT that ends the block. */
  commitLine: number;
}

export interface RestorePlan {
  file: string;
  noflush: boolean;
  counters: boolean;
  blocks: RestoreBlock[];
}

const PARAM_MAX = 1023;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * add_param_to_argv: the words of one line, each with its position (`makeWord` makes the word starting at `start`;
 * by default one with its position worked out at once).
 */
export function splitRestoreLine(
  text: string,
  at: (i: number) => SrcPos,
  lineNo: number,
  makeWord: (text: string, start: number) => Arg = (t, start) => ({ text: t, pos: at(start) }),
): Arg[] {
  const out: Arg[] = [];
  const emit = (word: string, start: number): void => {
    if (word.length > PARAM_MAX) failAt({ text: word, pos: at(start) }, 'Parameter too long!');
    if (
      (word[0] === '-' && word[1] !== '-' && word.includes('t')) ||
      (word.startsWith('--t') && '--table'.startsWith(word))
    ) {
      failAt(
        { text: word, pos: at(start) },
        `The -t option (seen in line ${lineNo}) cannot be used in iptables-restore.`,
      );
    }
    out.push(makeWord(word, start));
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (isSpace(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let j = i;
    while (j < n && !isSpace(text.charCodeAt(j)) && text.charCodeAt(j) !== 34) j++;
    if (j === n || text.charCodeAt(j) !== 34) {
      emit(text.slice(start, j), start);
      i = j;
      continue;
    }
    // A double quote: everything up to the closing one belongs to the word (a backslash takes the next character
    // as it is), and the closing quote ends the word.
    let word = text.slice(start, j);
    j++;
    let seg = j;
    let closed = false;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 92) {
        word += text.slice(seg, j);
        if (j + 1 < n) word += text[j + 1];
        j += 2;
        seg = j;
        continue;
      }
      if (c === 34) {
        word += text.slice(seg, j);
        closed = true;
        j++;
        break;
      }
      j++;
    }
    if (!closed) {
      if (seg < n) word += text.slice(seg);
      if (word.length > 0) emit(word, start);
      break;
    }
    emit(word, start);
    i = j;
  }
  return out;
}

function isTable(s: string): s is TableName {
  return (TABLE_NAMES as readonly string[]).includes(s);
}

/** Where the characters of a document are. */
class DocPlaces {
  private lineTable: Locator | null = null;

  constructor(
    readonly text: string,
    readonly file: string,
    readonly first: number | Locator,
  ) {}

  /** Positions are plain line and column numbers (no locator). */
  get plain(): boolean {
    return typeof this.first === 'number';
  }

  /** The number of line `li` (0-based), which starts at document offset `lineStart`. */
  lineNo(li: number, lineStart: number): number {
    return typeof this.first === 'number' ? this.first + li : this.first(lineStart).line;
  }

  /** Character `i` of line `li` (0-based), which starts at document offset `lineStart`. */
  at(li: number, lineStart: number, i: number): SrcPos {
    // A plain document knows its line and column without searching the line table (kube-proxy's payloads have
    // hundreds of thousands of lines).
    if (typeof this.first === 'number') return { file: this.file, line: this.first + li, col: 1 + i };
    return { file: this.file, ...this.first(lineStart + i) };
  }

  /** Any document offset. */
  locate(offset: number): { line: number; col: number } {
    if (typeof this.first !== 'number') return this.first(offset);
    this.lineTable ??= lineLocator(this.text, this.first);
    return this.lineTable(offset);
  }
}

/** A line of a document: which one, and where it starts. */
interface LineRef {
  doc: DocPlaces;
  li: number;
  lineStart: number;
}

/** A word of a rule line; where it is is worked out when asked for (most words never are). */
class LineWord implements Arg {
  private where: SrcPos | undefined;

  constructor(
    readonly text: string,
    private readonly line: LineRef,
    /** Offset in the line. */
    readonly off: number,
  ) {}

  get pos(): SrcPos {
    this.where ??= this.line.doc.at(this.line.li, this.line.lineStart, this.off);
    return this.where;
  }

  /** The position, if something asked for it already. */
  get knownPos(): SrcPos | undefined {
    return this.where;
  }
}

/** The column of the target word of the line `lazyLineAt` accepted last, whose REST starts at offset `at`. */
function targetColumn(at: number): number {
  return found.targetOff < 0 ? -1 : at + found.targetOff + 1;
}

/** `-A CHAIN REST`: the chain, where REST starts, REST, and whether the line cache should keep it. */
interface RestLine {
  chain: string;
  at: number;
  text: string;
  cache: boolean;
}

/** Built-in chains that refuse `-o` (PREROUTING, INPUT) or `-i` (POSTROUTING, OUTPUT) in a rule. */
const IFACE_CHECKED = new Set(['PREROUTING', 'INPUT', 'POSTROUTING', 'OUTPUT']);

/** Receives a document's parts in order as `readRestore` reads them. */
interface RestoreSink {
  /** `*TABLE`. */
  block(table: TableName, pos: SrcPos): void;
  /** One line of the current block. */
  op(op: RestoreOp): void;
  /**
   * `-A CHAIN …` of a plain document whose rule is kept as text (lazy-line.ts): its words after the chain are the
   * document from `from` to `to`, `lazy` what they need (offsets from `from`; valid during the call only).
   */
  lazy(chain: string, from: number, to: number, lazy: LazyLine, line: number, targetCol: number): void;
  /**
   * `:NAME POLICY …` of a user chain whose name passed the checks, if the sink takes such lines directly (else they
   * come as ops).
   */
  declare?(name: string, line: number): void;
  /** The `COMMIT` ending the current block. */
  commit(line: number): void;
}

/**
 * Parses an iptables-restore document. `first` is the file line of the text's first line, or a locator for text
 * embedded elsewhere (a YAML block). Throws IptablesError at the offending word. `keep` says which rule lines the
 * line cache should keep (by table and chain; a loader that knows the tables keeps those of chains that already
 * exist, which are the ones written again and again).
 */
export function parseRestore(
  text: string,
  file: string,
  first: number | Locator = 1,
  opts: RestoreOptions = {},
  keep: (table: TableName, chain: string) => boolean = () => true,
): RestorePlan {
  const plan: RestorePlan = { file, noflush: opts.noflush ?? false, counters: opts.counters ?? false, blocks: [] };
  let block: RestoreBlock | null = null;
  readRestore(text, file, first, plan.counters, keep, {
    block(table, pos) {
      block = { table, pos, ops: [], commitLine: 0 };
    },
    op(op) {
      block!.ops.push(op);
    },
    lazy(chain, from, to, lazy, line, targetCol) {
      block!.ops.push({ kind: 'lazy', chain, doc: text, from, to, lazy: { ...lazy }, line, file, targetCol });
    },
    commit(line) {
      block!.commitLine = line;
      plan.blocks.push(block!);
      block = null;
    },
  });
  return plan;
}

/** Reads a document, handing each part to `sink` as soon as it is parsed. */
function readRestore(
  text: string,
  file: string,
  first: number | Locator,
  counters: boolean,
  keep: (table: TableName, chain: string) => boolean,
  sink: RestoreSink,
): void {
  const doc = new DocPlaces(text, file, first);
  let table: TableName | null = null;
  let lastChain = '';
  // keep(table, lastChain), asked once per run of lines (the answer holds within a block: the loader's tables
  // change only between blocks).
  let keepLast: boolean | undefined;
  const keptLast = (t: TableName): boolean => {
    if (keepLast === undefined) keepLast = keep(t, lastChain);
    return keepLast;
  };
  const end = text.length;
  let lineStart = 0;
  for (let li = 0; lineStart <= end; li++) {
    let nl = text.indexOf('\n', lineStart);
    if (nl < 0) nl = end;
    const start0 = lineStart;
    lineStart = nl + 1;
    // The text after the last line break is a line of its own unless it is empty (`split` would give '').
    const lineEnd = nl > start0 && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (lineEnd === start0) {
      if (nl === end) break;
      continue;
    }
    // Runs of lines append to one chain: `-A`, the name read before and a space take it again as it is (its hash is
    // known already) without reading it character by character.
    const n = lastChain.length;
    const sameChain =
      n !== 0 &&
      start0 + n + 4 <= lineEnd &&
      text.charCodeAt(start0 + 3 + n) === 32 &&
      text.charCodeAt(start0) === 45 &&
      text.charCodeAt(start0 + 1) === 65 &&
      text.charCodeAt(start0 + 2) === 32 &&
      textAt(text, start0 + 3, lastChain);
    // The next line of a run appending to a chain the cache does not keep is read where it stands (no line cut out).
    const lazyTried = sameChain && table !== null && doc.plain && !keptLast(table);
    if (lazyTried && lazyLineAt(text, start0 + n + 4, lineEnd, lastChain)) {
      sink.lazy(lastChain, start0 + n + 4, lineEnd, found, doc.lineNo(li, start0), targetColumn(n + 4));
      continue;
    }
    const line = text.slice(start0, lineEnd);
    if (line.charCodeAt(0) === 35) continue;
    const lineNo = doc.lineNo(li, start0);
    if (table !== null && line === 'COMMIT') {
      sink.commit(lineNo);
      table = null;
      continue;
    }
    if (line.startsWith('*') && table === null) {
      const name = /^\*([^ \t]*)/.exec(line)![1]!;
      const here = doc.at(li, start0, 0);
      if (name === '') throw new IptablesError(`iptables-restore: line ${lineNo} table name invalid`, here);
      if (!isTable(name))
        throw new IptablesError(`iptables-restore: line ${lineNo} table name '${name}' invalid`, doc.at(li, start0, 1));
      table = name;
      keepLast = undefined;
      sink.block(name, here);
      continue;
    }
    if (table === null) throw new IptablesError(`iptables-restore: line ${lineNo} failed`, doc.at(li, start0, 0));
    if (line.startsWith(':')) {
      const plain = sink.declare === undefined ? null : plainUserChain(line, table);
      if (plain !== null) sink.declare!(plain, lineNo);
      else sink.op(chainLine(line, table, counters, doc, li, start0, lineNo));
      continue;
    }
    // `-A CHAIN REST`: REST may have been parsed before.
    let rest: RestLine | null = null;
    if (sameChain) rest = { chain: lastChain, at: n + 4, text: line.slice(n + 4), cache: true };
    else if (line.startsWith('-A ')) {
      let e = 3;
      while (e < line.length && !isSpace(line.charCodeAt(e)) && line.charCodeAt(e) !== 34) e++;
      if (e > 3 && e - 3 <= PARAM_MAX && line.charCodeAt(3) !== 45 && line.charCodeAt(e) === 32) {
        if (e - 3 !== lastChain.length || !line.startsWith(lastChain, 3)) {
          lastChain = line.slice(3, e);
          keepLast = undefined;
        }
        rest = { chain: lastChain, at: e + 1, text: line.slice(e + 1), cache: true };
      }
    }
    // Lines of a chain the cache does not keep were not kept by an earlier load either: no lookup.
    // (REST's chain is the last one named.)
    if (rest !== null && !keptLast(table)) rest.cache = false;
    if (rest?.cache) {
      const hit = cachedRuleLine(rest.text);
      if (hit !== undefined && !(hit.ifaceGiven && IFACE_CHECKED.has(rest.chain))) {
        sink.op(appendOp(doc, li, start0, lineNo, rest, hit));
        continue;
      }
    } else if (rest !== null && doc.plain && !lazyTried) {
      // A line no later load is expected to send again: its rule is kept as text until needed (lazy-line.ts).
      if (lazyLineAt(text, start0 + rest.at, lineEnd, rest.chain)) {
        sink.lazy(rest.chain, start0 + rest.at, lineEnd, found, lineNo, targetColumn(rest.at));
        continue;
      }
    }
    // A line in iptables-save's own form is read without getopt (restore-fast.ts); others, and every refusal, by
    // the full parser.
    const saved = rest === null ? null : parseSavedRule(rest.text, rest.chain);
    if (saved !== null && rest !== null) {
      const template = templateOf(saved.spec);
      template.targetOff = saved.targetOff;
      if (rest.cache) cacheRuleLine(rest.text, template);
      sink.op(appendOp(doc, li, start0, lineNo, rest, template));
      continue;
    }
    const where = { doc, li, lineStart: start0 };
    sink.op(commandLine(line, where, doc.at(li, start0, 0), table, counters, rest));
  }
  if (table !== null) {
    const last = doc.locate(text.length);
    throw new IptablesError(`iptables-restore: COMMIT expected at line ${last.line + (text.endsWith('\n') ? 0 : 1)}`, {
      file,
      ...last,
    });
  }
}

/** The op of `-A CHAIN REST` whose REST made `template`. */
function appendOp(
  doc: DocPlaces,
  li: number,
  lineStart: number,
  lineNo: number,
  rest: RestLine,
  template: RuleTemplate,
): RestoreOp {
  const targetAt = template.targetOff < 0 ? -1 : rest.at + template.targetOff;
  if (doc.plain) {
    return {
      kind: 'append',
      chain: rest.chain,
      template,
      line: lineNo,
      file: doc.file,
      targetCol: targetAt < 0 ? -1 : targetAt + 1,
    };
  }
  return {
    kind: 'append',
    chain: rest.chain,
    template,
    line: lineNo,
    file: null,
    targetCol: -1,
    pos: doc.at(li, lineStart, 0),
    targetPos: targetAt < 0 ? undefined : doc.at(li, lineStart, targetAt),
    chainPos: doc.at(li, lineStart, 3),
  };
}

/** Any other line of a table block: one iptables command (a `[p:b]` prefix sets the rule's counters). */
function commandLine(
  line: string,
  where: LineRef,
  here: SrcPos,
  table: TableName,
  withCounters: boolean,
  rest: RestLine | null,
): RestoreOp {
  const at = (i: number): SrcPos => where.doc.at(where.li, where.lineStart, i);
  const err = (i: number, message: string): IptablesError => new IptablesError(message, at(i));
  const lineNo = here.line;
  let start = 0;
  let counters: { p: Arg; b: Arg } | null = null;
  if (line.startsWith('[')) {
    const close = line.indexOf(']');
    if (close < 0) throw err(0, `Bad line ${lineNo}: need ]`);
    const inner = line.slice(1, close);
    const colon = inner.indexOf(':');
    if (colon < 0) throw err(0, `Bad line ${lineNo}: need :`);
    counters = {
      p: { text: inner.slice(0, colon), pos: at(1) },
      b: { text: inner.slice(colon + 1), pos: at(colon + 2) },
    };
    start = close + 1;
  }
  const args = splitRestoreLine(
    line.slice(start),
    (i) => at(start + i),
    lineNo,
    (text, i) => new LineWord(text, where, start + i),
  );
  if (counters && withCounters) args.push({ text: '--set-counters', pos: at(0) }, counters.p, counters.b);
  if (args.length === 0) throw err(0, `iptables-restore: line ${lineNo} failed`);
  const command = parseIptablesArgs(args, here, { restoreTable: table });
  if (command.cmd.op === 'list' || command.cmd.op === 'listRules') {
    throw err(0, `iptables-restore: line ${lineNo}: listing (-L/-S) is not supported in a restore document`);
  }
  if (rest === null || command.cmd.op !== 'append') return { kind: 'command', command, line: lineNo };
  const spec = command.cmd.rule;
  const template = templateOf(spec);
  const tpos = spec.target?.pos;
  const k = tpos === undefined ? -1 : args.findIndex((a) => a instanceof LineWord && a.knownPos === tpos);
  // A target word that is part of another (`-jX`, `--jump=X`) has no offset of its own: such lines are parsed
  // each time.
  if (rest.cache && (tpos === undefined || k >= 0)) {
    template.targetOff = k < 0 ? -1 : (args[k] as LineWord).off - rest.at;
    cacheRuleLine(rest.text, template);
  }
  if (where.doc.plain) {
    // The target word is on this line of the document: its column is all the rule needs to keep.
    return {
      kind: 'append',
      chain: command.cmd.chain,
      template,
      line: lineNo,
      file: here.file,
      targetCol: tpos?.col ?? -1,
    };
  }
  return {
    kind: 'append',
    chain: command.cmd.chain,
    template,
    line: lineNo,
    file: null,
    targetCol: -1,
    pos: here,
    targetPos: tpos,
    chainPos: command.chainPos ?? here,
  };
}

/**
 * The name of a `:NAME POLICY …` line of a user chain in the common spelling (single spaces, no tab or carriage
 * return) whose name passes the checks `chainLine` makes (as an own copy); null for any other line, which `chainLine`
 * reads and reports on.
 */
function plainUserChain(line: string, table: TableName): string | null {
  const sp = line.indexOf(' ', 1);
  if (sp <= 1 || sp - 1 > MAX_CHAIN_NAME || sp + 1 >= line.length || line.charCodeAt(sp + 1) === 32) return null;
  if (line.indexOf('\t') >= 0 || line.indexOf('\r') >= 0) return null;
  const c = line.charCodeAt(1);
  if (c === 45 || c === 33) return null;
  const name = line.slice(1, sp);
  // Any white space (as \s matches it) is for chainLine to report; plain ASCII is checked without the expression.
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch <= 32 || ch >= 127) {
      if (/\s/.test(name)) return null;
      break;
    }
  }
  if (isBuiltin(table, name) || KNOWN_TARGETS.has(name)) return null;
  return ownCopy(name);
}

/** `:CHAIN POLICY [p:b]` (split with strtok, not the quote-aware parser). */
function chainLine(
  line: string,
  table: TableName,
  counters: boolean,
  doc: DocPlaces,
  li: number,
  lineStart: number,
  lineNo: number,
): RestoreOp {
  const at = (i: number): SrcPos => doc.at(li, lineStart, i);
  const err = (i: number, message: string): IptablesError => new IptablesError(message, at(i));
  const words = splitWords(line, 1, 3);
  const chain = words[0];
  if (chain === undefined) throw err(0, `iptables-restore: line ${lineNo} chain name invalid`);
  if (chain.text.length > 28) throw err(chain.i, `Invalid chain name \`${chain.text}' (28 chars max)`);
  const policy = words[1];
  if (policy === undefined) throw err(0, `iptables-restore: line ${lineNo} policy invalid`);
  const builtin = isBuiltin(table, chain.text);
  // The name outlives the document (a chain keeps it): its own copy, so that the chain does not keep the document.
  const op: RestoreOp = {
    kind: 'chain',
    name: ownCopy(chain.text),
    policy: policy.text,
    pos: at(chain.i),
    line: lineNo,
  };
  if (builtin && counters) {
    const c = words[2] ? /^\[([0-9]+):([0-9]+)\]$/.exec(words[2].text) : null;
    if (c === null) throw err(words[2]?.i ?? 0, `invalid policy counters for chain '${chain.text}'`);
    op.counters = { packets: Number(c[1]), bytes: Number(c[2]) };
  } else {
    try {
      checkChainName(chain.text, at(chain.i));
    } catch (e) {
      if (e instanceof IptablesError)
        throw new IptablesError(`cannot create chain '${chain.text}' (${e.message})`, e.pos);
      throw e;
    }
  }
  return op;
}

/** The first `max` words of `s` from `from` on, separated by spaces, tabs and carriage returns, with their offsets. */
function splitWords(s: string, from: number, max: number): { text: string; i: number }[] {
  const out: { text: string; i: number }[] = [];
  let i = from;
  while (i < s.length && out.length < max) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < s.length && s.charCodeAt(j) !== 32 && s.charCodeAt(j) !== 9 && s.charCodeAt(j) !== 13) j++;
    out.push({ text: s.slice(i, j), i });
    i = j;
  }
  return out;
}

function lineLocator(text: string, firstLine: number): Locator {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: firstLine + lo, col: 1 + offset - starts[lo]! };
  };
}

/** The rule of an `-A` line with the addresses of `part`. */
function ruleFor(op: Extract<RestoreOp, { kind: 'append' }>, part: RulePart): Rule {
  return op.file === null
    ? ruleOf(op.template, part, op.pos, op.targetPos)
    : ruleAtLine(op.template, part, op.file, op.line, op.targetCol);
}

function restoreError(e: unknown, line: number): never {
  if (e instanceof IptablesError) {
    if (e.message.startsWith('iptables-restore:')) throw e;
    throw new IptablesError(`iptables-restore: line ${line} failed: ${e.message.replace(/^iptables: /, '')}`, e.pos);
  }
  throw e;
}

/**
 * Appends the rule kept as text that is `doc` from `from` to `to` (see `applyOp` for `cut`); throws at the line when
 * the chain does not exist.
 */
function appendLazy(
  txn: TableTxn,
  cut: LazyRule[] | undefined,
  chain: string,
  doc: string,
  from: number,
  to: number,
  lazy: LazyLine,
  file: string,
  line: number,
  col: number,
): void {
  const jump = lazy.jumpOff;
  const jumpTo = jump < 0 ? undefined : txn.jumpName(doc, from + jump, from + jump + lazy.jumpLen);
  const rule = lazyRule(doc, from, to, lazy.kind, jumpTo, file, line, col);
  if (cut === undefined) ownText(rule);
  else cut.push(rule);
  if (!txn.appendRule(chain, rule)) txn.append(chain, [rule], { file, line, col: 4 });
}

/**
 * Applies one line of a block of `table` to its transaction; errors say `iptables-restore: line N failed`. A rule
 * kept as text refers to its document and goes to `cut` when given (the caller decides whether the document is
 * kept), else gets its own copy at once.
 */
function applyOp(txn: TableTxn, table: TableName, op: RestoreOp, cut?: LazyRule[]): void {
  try {
    if (op.kind === 'chain') {
      if (isBuiltin(table, op.name)) {
        // `-` keeps the policy (iptables-save prints user chains that way; nf_tables accepts it here too).
        if (op.policy === '-') return;
        if (op.policy !== 'ACCEPT' && op.policy !== 'DROP') {
          throw new IptablesError(`iptables-restore: line ${op.line} failed: Bad policy name.`, op.pos);
        }
        txn.setPolicy(op.name, op.policy, op.pos, op.counters);
      } else txn.declareChain(op.name, op.pos);
    } else if (op.kind === 'lazy') {
      const { lazy } = op;
      appendLazy(txn, cut, op.chain, op.doc, op.from, op.to, lazy, op.file, op.line, op.targetCol);
    } else if (op.kind === 'append') {
      const t = op.template;
      if (t.more.length !== 0 || !txn.appendRule(op.chain, ruleFor(op, t)))
        txn.append(
          op.chain,
          [t, ...t.more].map((part) => ruleFor(op, part)),
          op.file === null ? op.chainPos : { file: op.file, line: op.line, col: 4 },
        );
    } else {
      applyToTxn(txn, op.command);
    }
  } catch (e) {
    restoreError(e, op.line);
  }
}

function commitBlock(state: NetfilterState, txn: TableTxn, commitLine: number): void {
  try {
    state.commit(txn, { restore: true, line: commitLine });
  } catch (e) {
    restoreError(e, commitLine);
  }
}

/**
 * Applies a parsed document: each table block is one transaction committed at its COMMIT. Throws IptablesError
 * (`iptables-restore: line N failed: …`) at the first refusal; blocks committed before it stay.
 */
export function applyRestore(state: NetfilterState, plan: RestorePlan): void {
  for (const block of plan.blocks) {
    const txn = plan.noflush ? state.begin(block.table) : state.beginEmpty(block.table);
    txn.exists = true;
    for (const op of block.ops) applyOp(txn, block.table, op);
    commitBlock(state, txn, block.commitLine);
  }
}

/**
 * Parses and applies a document in one pass, as `applyRestore(state, parseRestore(…))` does, without holding the
 * parsed lines (kube-proxy's payloads have hundreds of thousands): each line goes into its block's transaction as
 * it is read, and the transactions are committed in order once the whole document has been read, so a syntax error
 * anywhere still changes nothing. A refusal while applying a line commits the blocks whose COMMIT came before it
 * (as iptables-restore would have) and reports that line — it is found in document order, so a syntax error further
 * down is not reached, as with the real tool. A table that appears twice commits what came before it first.
 */
export function restoreInto(
  state: NetfilterState,
  text: string,
  file: string,
  first: number | Locator = 1,
  opts: RestoreOptions = {},
  keep: (table: TableName, chain: string) => boolean = () => true,
): void {
  const noflush = opts.noflush ?? false;
  const staged: { txn: TableTxn; line: number }[] = [];
  const commitStaged = (): void => {
    const all = staged.splice(0);
    for (const s of all) commitBlock(state, s.txn, s.line);
  };
  let txn: TableTxn | null = null;
  let table: TableName = 'filter';
  // Rules kept as text refer to the document while it is read. Afterwards the document is kept if they make up
  // most of it (a full sync of a kube-proxy: the text is then stored once, and the collector does not copy a
  // hundred thousand short strings through the young generation); else each gets its own copy, so that a small
  // document does not stay alive for a few rules.
  const cut: LazyRule[] = [];
  const ownTexts = (): void => {
    // Indexed loops: this runs once per load, unoptimised, over up to hundreds of thousands of rules, and `for…of`
    // would allocate an iterator result for each.
    let chars = 0;
    for (let i = 0; i < cut.length; i++) chars += cut[i]!._to - cut[i]!._from;
    if (chars * 2 < text.length) for (let i = 0; i < cut.length; i++) ownText(cut[i]!);
    cut.length = 0;
  };
  /** Ends the load: what was read settles, and the blocks read so far commit. */
  const finish = (): void => {
    ownTexts();
    commitStaged();
  };
  readRestore(text, file, first, opts.counters ?? false, keep, {
    block(name) {
      if (staged.some((s) => s.txn.name === name)) commitStaged();
      table = name;
      txn = noflush ? state.begin(name) : state.beginEmpty(name);
      txn.exists = true;
    },
    op(op) {
      try {
        applyOp(txn!, table, op, cut);
      } catch (e) {
        finish();
        throw e;
      }
    },
    declare(name, line) {
      try {
        txn!.declareChain(name);
      } catch (e) {
        finish();
        restoreError(e, line);
      }
    },
    lazy(chain, from, to, lazy, line, targetCol) {
      try {
        appendLazy(txn!, cut, chain, text, from, to, lazy, file, line, targetCol);
      } catch (e) {
        finish();
        restoreError(e, line);
      }
    },
    commit(line) {
      staged.push({ txn: txn!, line });
      txn = null;
    },
  });
  finish();
}
