// iptables-restore: the document format (`*table`, `:CHAIN POLICY [p:b]`, command lines, `COMMIT`, `#` comment
// lines) with the tool's own word splitting (only double quotes quote, a backslash escapes inside them, a closing
// quote ends the word) and its semantics: without --noflush a table block starts from an empty table (user chains
// gone, policies ACCEPT); with --noflush only the chains declared with `:` are flushed (a built-in chain declared
// that way only gets its policy). `[p:b]` prefixes and policy counters apply with --counters only; `-c P B` in a
// rule always does. Every COMMIT is one atomic transaction, as in iptables-restore: an error in a later table
// leaves earlier COMMITs in place. Unlike the real tool, the whole document is parsed before anything is applied,
// so a syntax error anywhere changes nothing.

import { type Arg, failAt } from './args.js';
import { applyToTxn, type IptablesCommand, parseIptablesArgs } from './command.js';
import { IptablesError } from './errors.js';
import { checkChainName, isBuiltin, type NetfilterState } from './state.js';
import { type SrcPos, TABLE_NAMES, type TableName } from './types.js';

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
  | { kind: 'command'; command: IptablesCommand; line: number };

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

/** add_param_to_argv: the words of one line, each with its position. */
export function splitRestoreLine(text: string, at: (i: number) => SrcPos, lineNo: number): Arg[] {
  const out: Arg[] = [];
  let buf = '';
  let start = -1;
  let quote = false;
  let escaped = false;
  const emit = (): void => {
    if (buf.length > PARAM_MAX) failAt({ text: buf, pos: at(start) }, 'Parameter too long!');
    if (
      (buf[0] === '-' && buf[1] !== '-' && buf.includes('t')) ||
      (buf.startsWith('--t') && '--table'.startsWith(buf))
    ) {
      failAt(
        { text: buf, pos: at(start) },
        `The -t option (seen in line ${lineNo}) cannot be used in iptables-restore.`,
      );
    }
    out.push({ text: buf, pos: at(start) });
    buf = '';
    start = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (escaped) {
        buf += c;
        escaped = false;
        continue;
      }
      if (c === '\\') {
        escaped = true;
        continue;
      }
      if (c === '"') {
        quote = false;
        emit();
        continue;
      }
      buf += c;
      continue;
    }
    if (c === '"') {
      quote = true;
      if (start < 0) start = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (buf.length > 0) emit();
      continue;
    }
    if (start < 0) start = i;
    buf += c;
  }
  if (buf.length > 0) emit();
  return out;
}

function isTable(s: string): s is TableName {
  return (TABLE_NAMES as readonly string[]).includes(s);
}

/**
 * Parses an iptables-restore document. `first` is the file line of the text's first line, or a locator for text
 * embedded elsewhere (a YAML block). Throws IptablesError at the offending word.
 */
export function parseRestore(
  text: string,
  file: string,
  first: number | Locator = 1,
  opts: RestoreOptions = {},
): RestorePlan {
  const locate: Locator = typeof first === 'number' ? lineLocator(text, first) : first;
  const plan: RestorePlan = { file, noflush: opts.noflush ?? false, counters: opts.counters ?? false, blocks: [] };
  let block: RestoreBlock | null = null;
  let offset = 0;
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!;
    const lineStart = offset;
    offset += raw.length + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // A plain document knows its line and column without searching the line table (kube-proxy's payloads have
    // hundreds of thousands of lines, and every word gets a position).
    const at =
      typeof first === 'number'
        ? (i: number): SrcPos => ({ file, line: first + li, col: 1 + i })
        : (i: number): SrcPos => ({ file, ...locate(lineStart + i) });
    const here = at(0);
    const lineNo = here.line;
    const err = (i: number, message: string): IptablesError => new IptablesError(message, at(i));
    if (li === lines.length - 1 && line === '') break;
    if (line === '' || line.startsWith('#')) continue;
    if (block !== null && line === 'COMMIT') {
      block.commitLine = lineNo;
      plan.blocks.push(block);
      block = null;
      continue;
    }
    if (line.startsWith('*') && block === null) {
      const name = /^\*([^ \t]*)/.exec(line)![1]!;
      if (name === '') throw err(0, `iptables-restore: line ${lineNo} table name invalid`);
      if (!isTable(name)) throw err(1, `iptables-restore: line ${lineNo} table name '${name}' invalid`);
      block = { table: name, pos: here, ops: [], commitLine: 0 };
      continue;
    }
    if (block === null) throw err(0, `iptables-restore: line ${lineNo} failed`);
    if (line.startsWith(':')) {
      const words = splitWords(line.slice(1)).map((w) => ({ ...w, i: w.i + 1 }));
      const chain = words[0];
      if (chain === undefined) throw err(0, `iptables-restore: line ${lineNo} chain name invalid`);
      if (chain.text.length > 28) throw err(chain.i, `Invalid chain name \`${chain.text}' (28 chars max)`);
      const policy = words[1];
      if (policy === undefined) throw err(0, `iptables-restore: line ${lineNo} policy invalid`);
      const builtin = isBuiltin(block.table, chain.text);
      const op: RestoreOp = { kind: 'chain', name: chain.text, policy: policy.text, pos: at(chain.i), line: lineNo };
      if (builtin && plan.counters) {
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
      block.ops.push(op);
      continue;
    }
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
    const args = splitRestoreLine(line.slice(start), (i) => at(start + i), lineNo);
    if (counters && plan.counters) args.push({ text: '--set-counters', pos: at(0) }, counters.p, counters.b);
    if (args.length === 0) throw err(0, `iptables-restore: line ${lineNo} failed`);
    const command = parseIptablesArgs(args, here, { restoreTable: block.table });
    if (command.cmd.op === 'list' || command.cmd.op === 'listRules') {
      throw err(0, `iptables-restore: line ${lineNo}: listing (-L/-S) is not supported in a restore document`);
    }
    block.ops.push({ kind: 'command', command, line: lineNo });
  }
  if (block !== null) {
    const end = locate(text.length);
    throw new IptablesError(`iptables-restore: COMMIT expected at line ${end.line + (text.endsWith('\n') ? 0 : 1)}`, {
      file,
      ...end,
    });
  }
  return plan;
}

/** Whitespace-separated words with their offsets (chain lines are split with strtok, not the quote-aware parser). */
function splitWords(s: string): { text: string; i: number }[] {
  const out: { text: string; i: number }[] = [];
  const re = /[^ \t\r]+/g;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push({ text: m[0], i: m.index });
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

function restoreError(e: unknown, line: number): never {
  if (e instanceof IptablesError) {
    if (e.message.startsWith('iptables-restore:')) throw e;
    throw new IptablesError(`iptables-restore: line ${line} failed: ${e.message.replace(/^iptables: /, '')}`, e.pos);
  }
  throw e;
}

/**
 * Applies a parsed document: each table block is one transaction committed at its COMMIT. Throws IptablesError
 * (`iptables-restore: line N failed: …`) at the first refusal; blocks committed before it stay.
 */
export function applyRestore(state: NetfilterState, plan: RestorePlan): void {
  for (const block of plan.blocks) {
    const txn = plan.noflush ? state.begin(block.table) : state.beginEmpty(block.table);
    txn.exists = true;
    for (const op of block.ops) {
      try {
        if (op.kind === 'chain') {
          if (isBuiltin(block.table, op.name)) {
            // `-` keeps the policy (iptables-save prints user chains that way; nf_tables accepts it here too).
            if (op.policy === '-') continue;
            if (op.policy !== 'ACCEPT' && op.policy !== 'DROP') {
              throw new IptablesError(`iptables-restore: line ${op.line} failed: Bad policy name.`, op.pos);
            }
            txn.setPolicy(op.name, op.policy, op.pos, op.counters);
          } else if (txn.chains.has(op.name)) txn.flush(op.name, op.pos);
          else txn.newChain(op.name, op.pos);
        } else {
          applyToTxn(txn, op.command);
        }
      } catch (e) {
        restoreError(e, op.line);
      }
    }
    try {
      state.commit(txn, { restore: true, line: block.commitLine });
    } catch (e) {
      restoreError(e, block.commitLine);
    }
  }
}
