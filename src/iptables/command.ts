// The iptables command line: one command (-A -C -D -I -R -L -S -F -Z -N -X -E -P, with -Z allowed beside -L/-S),
// the table (-t), display options (-n -v -x --line-numbers) and the rule options handed to a RuleBuilder, read with
// getopt_long's rules (see args.ts) including iptables' own habits: optional chain and rule-number words after a
// command, the implicit protocol match, `!` before an option. `-w`/`--wait`, `-W` and `-4` are accepted and
// ignored. `applyIptablesCommand` runs the command on a NetfilterState and returns what iptables prints.

import { type Arg, ArgCursor, failAt, shifted } from './args.js';
import { IptablesError } from './errors.js';
import { formatList, formatRulesS, type ListOptions } from './list.js';
import type { ExtOption } from './rule-spec.js';
import { instantiate, RuleBuilder, type RuleSpec, specTexts } from './rule-spec.js';
import type { NetfilterState, TableTxn } from './state.js';
import { type SrcPos, TABLE_NAMES, type TableName } from './types.js';
import { parseDecimal } from './values.js';

export type IptablesOp =
  | { op: 'append'; chain: string; rule: RuleSpec }
  | { op: 'check'; chain: string; rule: RuleSpec }
  | { op: 'delete'; chain: string; rule: RuleSpec }
  | { op: 'deleteNum'; chain: string; rulenum: number }
  | { op: 'insert'; chain: string; rulenum: number; rule: RuleSpec }
  | { op: 'replace'; chain: string; rulenum: number; rule: RuleSpec }
  | { op: 'list'; chain?: string; rulenum?: number; zero: boolean }
  | { op: 'listRules'; chain?: string; rulenum?: number; zero: boolean }
  | { op: 'flush'; chain?: string }
  | { op: 'zero'; chain?: string; rulenum?: number }
  | { op: 'newChain'; chain: string }
  | { op: 'deleteChain'; chain?: string }
  | { op: 'rename'; chain: string; newName: string; newPos?: SrcPos }
  | { op: 'policy'; chain: string; policy: string; counters?: { packets: number; bytes: number } };

export interface IptablesCommand {
  table: TableName;
  cmd: IptablesOp;
  /** -n -v -x --line-numbers. */
  list: ListOptions;
  /** The command word (`-A`, …), where errors about the command as a whole point. */
  pos?: SrcPos;
  /** The chain word. */
  chainPos?: SrcPos;
}

type ArgKind = 0 | 1 | 'opt';

/** Long options of iptables itself: name → [short letter or id, argument]. */
const LONG: readonly [string, string, ArgKind][] = [
  ['append', 'A', 1],
  ['check', 'C', 1],
  ['delete', 'D', 1],
  ['insert', 'I', 1],
  ['replace', 'R', 1],
  ['list', 'L', 'opt'],
  ['list-rules', 'S', 'opt'],
  ['flush', 'F', 'opt'],
  ['zero', 'Z', 'opt'],
  ['new-chain', 'N', 1],
  ['delete-chain', 'X', 'opt'],
  ['rename-chain', 'E', 1],
  ['policy', 'P', 1],
  ['source', 's', 1],
  ['src', 's', 1],
  ['destination', 'd', 1],
  ['dst', 'd', 1],
  ['protocol', 'p', 1],
  ['in-interface', 'i', 1],
  ['jump', 'j', 1],
  ['table', 't', 1],
  ['verbose', 'v', 0],
  ['wait', 'w', 'opt'],
  ['wait-interval', 'W', 1],
  ['exact', 'x', 0],
  ['numeric', 'n', 0],
  ['out-interface', 'o', 1],
  ['goto', 'g', 1],
  ['fragment', 'f', 0],
  ['version', 'V', 0],
  ['help', 'h', 0],
  ['match', 'm', 1],
  ['line-numbers', 'line-numbers', 0],
  ['modprobe', 'M', 1],
  ['set-counters', 'c', 1],
  ['ipv4', '4', 0],
  ['ipv6', '6', 0],
];

const SHORT: Record<string, ArgKind> = {
  A: 1,
  C: 1,
  D: 1,
  R: 1,
  I: 1,
  L: 'opt',
  S: 'opt',
  M: 1,
  F: 'opt',
  Z: 'opt',
  N: 1,
  X: 'opt',
  E: 1,
  P: 1,
  V: 0,
  h: 0,
  o: 1,
  p: 1,
  s: 1,
  d: 1,
  j: 1,
  i: 1,
  f: 0,
  v: 0,
  w: 'opt',
  W: 1,
  n: 0,
  t: 1,
  m: 1,
  x: 0,
  c: 1,
  g: 1,
  '4': 0,
  '6': 0,
};

const COMMANDS = 'ACDIRLSFZNXEP';

/** The values of an option that takes none. */
const NO_ARGS: Arg[] = [];

/** One option occurrence after getopt's lexing. */
type Lexed =
  | { kind: 'builtin'; id: string; tok: Arg; value?: Arg }
  | { kind: 'ext'; opt: ExtOption; tok: Arg; inline?: Arg };

interface ParseState {
  table: TableName | null;
  tablePos?: SrcPos;
  cmd: string | null;
  cmdTok: Arg | null;
  /** -Z given together with -L or -S. */
  zero: boolean;
  chain: Arg | null;
  rulenum: Arg | null;
  second: Arg | null;
  list: ListOptions;
}

export interface ParseOptions {
  /** The table a restore block selected; -t is then refused. */
  restoreTable?: TableName;
}

function longName(tok: Arg): { name: string; inline?: Arg } {
  const body = tok.text.slice(2);
  const eq = body.indexOf('=');
  if (eq < 0) return { name: body };
  return { name: body.slice(0, eq), inline: shifted(tok, 3 + eq, body.slice(eq + 1)) };
}

const LONG_EXACT = new Map(LONG.map(([n, id, arg]) => [n, { id, arg }]));

/** `--NAME` is one of iptables' own long options (they win over a module's option of the same name). */
export function isBuiltinLongOption(name: string): boolean {
  return LONG_EXACT.has(name);
}

type LongHit = { kind: 'builtin'; id: string; arg: ArgKind } | { kind: 'ext'; opt: ExtOption };

/** getopt_long: an exact name wins, else a prefix that names a single option (aliases of one option agree). */
function resolveLong(name: string, builder: RuleBuilder): LongHit | { kind: 'ambiguous'; names: string[] } | null {
  const b = LONG_EXACT.get(name);
  if (b) return { kind: 'builtin', ...b };
  const exactE = builder.extOptionNamed(name);
  if (exactE) return { kind: 'ext', opt: exactE };
  if (name === '') return null;
  const exts = builder.extOptions();
  const cands: { key: string; label: string; hit: LongHit }[] = [];
  for (const [n, id, arg] of LONG) {
    if (n.startsWith(name)) cands.push({ key: `b:${id}`, label: n, hit: { kind: 'builtin', id, arg } });
  }
  for (const o of exts) {
    if (o.name.startsWith(name))
      cands.push({ key: `e:${o.slotIndex}:${o.spec.name}`, label: o.name, hit: { kind: 'ext', opt: o } });
  }
  if (cands.length === 0) return null;
  if (new Set(cands.map((c) => c.key)).size > 1) return { kind: 'ambiguous', names: cands.map((c) => c.label) };
  return cands[0]!.hit;
}

function isTable(s: string): s is TableName {
  return (TABLE_NAMES as readonly string[]).includes(s);
}

/**
 * Parses the words after `iptables` (or one iptables-restore line). Throws IptablesError at the offending word.
 * `pos` is the position of the command's first word, kept on the rules for traces.
 */
export function parseIptablesArgs(words: readonly Arg[], pos?: SrcPos, opts: ParseOptions = {}): IptablesCommand {
  const cur = new ArgCursor(words);
  const builder = new RuleBuilder();
  const st: ParseState = {
    table: opts.restoreTable ?? null,
    cmd: null,
    cmdTok: null,
    zero: false,
    chain: null,
    rulenum: null,
    second: null,
    list: { numeric: false, verbose: false, exact: false, lineNumbers: false },
  };
  let inv: Arg | null = null;

  const handle = (lx: Lexed): void => {
    const invert = inv !== null;
    const invTok = inv;
    inv = null;
    if (lx.kind === 'ext') {
      const { spec } = lx.opt;
      const values: Arg[] = spec.args === 0 ? NO_ARGS : [];
      if (spec.args >= 1) values.push(lx.inline ?? cur.value(lx.tok, lx.tok.text));
      if (spec.args === 2) {
        const v = cur.next();
        if (v === undefined) failAt(lx.tok, `option "${lx.tok.text}" requires two arguments`);
        values.push(v);
      }
      if (spec.args === 0 && lx.inline) failAt(lx.tok, `option '--${spec.name}' doesn't allow an argument`);
      builder.extOption(lx.opt, lx.tok, values, invert);
      return;
    }
    const { id, tok } = lx;
    if (COMMANDS.includes(id) && id.length === 1) {
      if (invert) failAt(invTok!, `unexpected ! flag before ${tok.text}`);
      command(id, tok, lx.value);
      return;
    }
    if (invert && !'sdpiof'.includes(id)) failAt(invTok!, `cannot have ! before ${tok.text}`);
    switch (id) {
      case 's':
      case 'd':
        builder.address(id, tok, lx.value ?? cur.value(tok, tok.text), invert);
        return;
      case 'i':
      case 'o':
        builder.iface(id, tok, lx.value ?? cur.value(tok, tok.text), invert);
        return;
      case 'p':
        builder.protocol(tok, lx.value ?? cur.value(tok, tok.text), invert);
        return;
      case 'f':
        builder.frag(tok, invert);
        return;
      case 'm':
        builder.loadMatch(tok, lx.value ?? cur.value(tok, tok.text));
        return;
      case 'j':
      case 'g':
        builder.jump(tok, lx.value ?? cur.value(tok, tok.text), id === 'g');
        return;
      case 'c': {
        const p = lx.value ?? cur.value(tok, tok.text);
        const comma = p.text.indexOf(',');
        if (comma >= 0) {
          builder.setCounters(
            tok,
            shifted(p, 0, p.text.slice(0, comma)),
            shifted(p, comma + 1, p.text.slice(comma + 1)),
          );
        } else {
          const b = cur.optional();
          if (b === undefined) failAt(tok, '-c requires packet and byte counter');
          builder.setCounters(tok, p, b);
        }
        return;
      }
      case 't': {
        const v = lx.value ?? cur.value(tok, tok.text);
        if (opts.restoreTable !== undefined) failAt(tok, 'The -t option cannot be used in iptables-restore.');
        if (st.table !== null) failAt(tok, 'multiple -t flags not allowed');
        if (!isTable(v.text)) {
          failAt(v, `can't initialize iptables table \`${v.text}': Table does not exist (do you need to insmod?)`);
        }
        st.table = v.text;
        if (v.pos) st.tablePos = v.pos;
        return;
      }
      case 'n':
        st.list.numeric = true;
        return;
      case 'v':
        st.list.verbose = true;
        return;
      case 'x':
        st.list.exact = true;
        return;
      case 'line-numbers':
        st.list.lineNumbers = true;
        return;
      case 'w':
        if (lx.value === undefined) {
          const v = cur.peek();
          if (v !== undefined && /^[0-9]+$/.test(v.text)) cur.next();
        }
        return;
      case 'W':
        lx.value ?? cur.value(tok, tok.text);
        return;
      case '4':
        return;
      case '6':
        failAt(tok, 'IPv6 is not supported (this is the IPv4 iptables)');
        break;
      case 'M':
        failAt(tok, `option '${tok.text}' is not supported`);
        break;
      default:
        failAt(tok, `option '${tok.text}' is not supported`);
    }
  };

  const command = (id: string, tok: Arg, value: Arg | undefined): void => {
    const zeroWithList =
      (id === 'Z' && (st.cmd === 'L' || st.cmd === 'S')) || ((id === 'L' || id === 'S') && st.cmd === 'Z');
    if (st.cmd !== null && !zeroWithList) failAt(tok, `Can't use ${tok.text} with -${st.cmd}`);
    if (zeroWithList) {
      st.zero = true;
      if (id === 'Z') {
        if (value === undefined) cur.optional();
        return;
      }
      st.cmd = id;
      st.cmdTok = tok;
    } else {
      st.cmd = id;
      st.cmdTok = tok;
    }
    const required = (v: Arg | undefined): Arg => v ?? cur.value(tok, tok.text);
    switch (id) {
      case 'A':
      case 'C':
      case 'N':
        st.chain = required(value);
        return;
      case 'D':
      case 'I':
        st.chain = required(value);
        st.rulenum = cur.optional() ?? null;
        return;
      case 'R':
        st.chain = required(value);
        st.rulenum = cur.optional() ?? null;
        if (st.rulenum === null) failAt(tok, '-R requires a rule number');
        return;
      case 'E':
        st.chain = required(value);
        st.second = cur.optional() ?? null;
        if (st.second === null) failAt(tok, '-E requires old-chain-name and new-chain-name');
        return;
      case 'P':
        st.chain = required(value);
        st.second = cur.optional() ?? null;
        if (st.second === null) failAt(tok, '-P requires a chain and a policy');
        return;
      default:
        st.chain = value ?? cur.optional() ?? null;
        if (id === 'L' || id === 'S' || id === 'Z') st.rulenum = st.chain !== null ? (cur.optional() ?? null) : null;
    }
  };

  while (!cur.done) {
    const w = cur.next()!;
    if (w.text === '!') {
      if (inv !== null) failAt(w, 'multiple consecutive ! not allowed');
      inv = w;
      continue;
    }
    if (!w.text.startsWith('-') || w.text === '-' || w.text === '--') failAt(w, `Bad argument \`${w.text}'`);
    if (w.text.startsWith('--')) {
      const { name, inline } = longName(w);
      let hit = resolveLong(name, builder);
      if (hit === null && builder.loadImplicit(w)) hit = resolveLong(name, builder);
      if (hit === null) failAt(w, `unknown option "--${name}"`);
      if (hit.kind === 'ambiguous')
        failAt(w, `option '--${name}' is ambiguous; possibilities: ${hit.names.map((n) => `'--${n}'`).join(' ')}`);
      if (hit.kind === 'ext') {
        handle(inline ? { kind: 'ext', opt: hit.opt, tok: w, inline } : { kind: 'ext', opt: hit.opt, tok: w });
        continue;
      }
      if (hit.arg === 0 && inline) failAt(w, `option '--${name}' doesn't allow an argument`);
      handle(inline ? { kind: 'builtin', id: hit.id, tok: w, value: inline } : { kind: 'builtin', id: hit.id, tok: w });
      continue;
    }
    // A cluster of short options: `-nvL`, `-tnat`.
    for (let i = 1; i < w.text.length; i++) {
      const ch = w.text[i]!;
      const arg = SHORT[ch];
      // A word that is one short option stands for itself.
      const tok = w.text.length === 2 ? w : shifted(w, i - 1, `-${ch}`);
      if (arg === undefined) failAt(tok, `unknown option "-${ch}"`);
      const rest = w.text.slice(i + 1);
      if (arg !== 0 && rest !== '') {
        handle({ kind: 'builtin', id: ch, tok, value: shifted(w, i + 1, rest) });
        break;
      }
      handle({ kind: 'builtin', id: ch, tok });
    }
  }
  if (inv !== null) failAt(inv, "unexpected '!' at the end of the command");

  const table = st.table ?? 'filter';
  const cmdTok = st.cmdTok;
  if (st.cmd === null || cmdTok === null) {
    failAt(words[0], 'no command specified');
  }
  const base: Omit<IptablesCommand, 'cmd'> = { table, list: st.list };
  if (cmdTok.pos) base.pos = cmdTok.pos;
  if (st.chain?.pos) base.chainPos = st.chain.pos;
  const chain = st.chain?.text;
  const needsRule = 'ACDIR'.includes(st.cmd) && !(st.cmd === 'D' && st.rulenum !== null);
  if (!needsRule && builder.firstRuleOption !== null && !(st.cmd === 'P' && onlyCounters(builder))) {
    failAt(builder.firstRuleOption, `Illegal option \`${builder.firstRuleOption.text}' with this command`);
  }
  const rulenum = (a: Arg | null): number => {
    if (a === null) return 1;
    const n = parseDecimal(a.text, 0x7fffffff);
    if (n === null || n < 1) failAt(a, `Invalid rule number \`${a.text}'`);
    return n;
  };
  const rule = (): RuleSpec => {
    if (chain !== undefined && isBuiltinName(chain)) {
      if ((chain === 'PREROUTING' || chain === 'INPUT') && builder.hasOut)
        failAt(st.chain!, `Can't use -o with ${chain}`);
      if ((chain === 'POSTROUTING' || chain === 'OUTPUT') && builder.hasIn)
        failAt(st.chain!, `Can't use -i with ${chain}`);
    }
    return builder.finish(pos);
  };
  switch (st.cmd) {
    case 'A':
      return withCmd(base, { op: 'append', chain: chain!, rule: rule() });
    case 'C':
      return { ...base, cmd: { op: 'check', chain: chain!, rule: rule() } };
    case 'D':
      if (st.rulenum !== null)
        return { ...base, cmd: { op: 'deleteNum', chain: chain!, rulenum: rulenum(st.rulenum) } };
      return { ...base, cmd: { op: 'delete', chain: chain!, rule: rule() } };
    case 'I':
      return { ...base, cmd: { op: 'insert', chain: chain!, rulenum: rulenum(st.rulenum), rule: rule() } };
    case 'R':
      return {
        ...base,
        cmd: { op: 'replace', chain: chain!, rulenum: rulenum(st.rulenum), rule: rule() },
      };
    case 'L':
    case 'S': {
      const op = st.cmd === 'L' ? 'list' : 'listRules';
      return {
        ...base,
        cmd: {
          op,
          ...(chain !== undefined ? { chain } : {}),
          ...(st.rulenum !== null ? { rulenum: rulenum(st.rulenum) } : {}),
          zero: st.zero,
        },
      };
    }
    case 'F':
      return { ...base, cmd: { op: 'flush', ...(chain !== undefined ? { chain } : {}) } };
    case 'Z':
      return {
        ...base,
        cmd: {
          op: 'zero',
          ...(chain !== undefined ? { chain } : {}),
          ...(st.rulenum !== null ? { rulenum: rulenum(st.rulenum) } : {}),
        },
      };
    case 'N':
      return { ...base, cmd: { op: 'newChain', chain: chain! } };
    case 'X':
      return { ...base, cmd: { op: 'deleteChain', ...(chain !== undefined ? { chain } : {}) } };
    case 'E':
      return {
        ...base,
        cmd: {
          op: 'rename',
          chain: chain!,
          newName: st.second!.text,
          ...(st.second!.pos ? { newPos: st.second!.pos } : {}),
        },
      };
    default: {
      const counters = builder.finish().counters;
      return {
        ...base,
        cmd: { op: 'policy', chain: chain!, policy: st.second!.text, ...(counters ? { counters } : {}) },
      };
    }
  }
}

/** `base` with `cmd` (the same keys a spread gives, built directly: this runs for every rule line). */
function withCmd(base: Omit<IptablesCommand, 'cmd'>, cmd: IptablesOp): IptablesCommand {
  const c: IptablesCommand = { table: base.table, cmd, list: base.list };
  if (base.pos !== undefined) c.pos = base.pos;
  if (base.chainPos !== undefined) c.chainPos = base.chainPos;
  return c;
}

function onlyCounters(b: RuleBuilder): boolean {
  return b.firstRuleOption?.text === '-c' || b.firstRuleOption?.text === '--set-counters';
}

function isBuiltinName(chain: string): boolean {
  return ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'].includes(chain);
}

/** Applies a parsed command inside an open transaction (shared by iptables and iptables-restore). */
export function applyToTxn(txn: TableTxn, c: IptablesCommand): void {
  const at = c.chainPos ?? c.pos;
  const cmd = c.cmd;
  switch (cmd.op) {
    case 'append':
      txn.append(cmd.chain, instantiate(cmd.rule), at);
      return;
    case 'insert':
      txn.insert(cmd.chain, cmd.rulenum, instantiate(cmd.rule), at);
      return;
    case 'replace': {
      const rules = instantiate(cmd.rule);
      if (rules.length !== 1) throw new IptablesError('-R only allows one source and one destination address', at);
      txn.replace(cmd.chain, cmd.rulenum, rules[0]!, at);
      return;
    }
    case 'delete':
      for (const text of specTexts(cmd.rule)) txn.deleteSpec(cmd.chain, text, at);
      return;
    case 'deleteNum':
      txn.deleteNum(cmd.chain, cmd.rulenum, at);
      return;
    case 'check':
      for (const text of specTexts(cmd.rule)) txn.check(cmd.chain, text, at);
      return;
    case 'newChain':
      txn.newChain(cmd.chain, at);
      return;
    case 'deleteChain':
      txn.deleteChain(cmd.chain, at);
      return;
    case 'flush':
      txn.flush(cmd.chain, at);
      return;
    case 'zero':
      txn.zero(cmd.chain, cmd.rulenum, at);
      return;
    case 'policy':
      txn.setPolicy(cmd.chain, cmd.policy, at, cmd.counters);
      return;
    case 'rename':
      txn.rename(cmd.chain, cmd.newName, at, cmd.newPos);
      return;
    case 'list':
    case 'listRules':
      throw new IptablesError('listing is not supported here', c.pos);
  }
}

/**
 * Runs one iptables command against the namespace's tables and returns its standard output (the listing for -L/-S,
 * empty otherwise). Errors are IptablesErrors with iptables' wording; on error nothing changes.
 */
export function applyIptablesCommand(state: NetfilterState, c: IptablesCommand): string {
  const cmd = c.cmd;
  if (cmd.op === 'list' || cmd.op === 'listRules') {
    if (cmd.chain !== undefined && state.chain(c.table, cmd.chain) === undefined) {
      throw new IptablesError('iptables: No chain/target/match by that name.', c.chainPos ?? c.pos);
    }
    const out =
      cmd.op === 'list'
        ? formatList(state, c.table, {
            ...c.list,
            ...(cmd.chain !== undefined ? { chain: cmd.chain } : {}),
            ...(cmd.rulenum !== undefined ? { rulenum: cmd.rulenum } : {}),
          })
        : formatRulesS(state, c.table, {
            verbose: c.list.verbose,
            ...(cmd.chain !== undefined ? { chain: cmd.chain } : {}),
            ...(cmd.rulenum !== undefined ? { rulenum: cmd.rulenum } : {}),
          });
    if (cmd.zero) state.update(c.table, (txn) => txn.zero(cmd.chain, undefined, c.chainPos ?? c.pos));
    return out;
  }
  const txn = state.begin(c.table);
  applyToTxn(txn, c);
  if (cmd.op === 'check') return '';
  state.commit(txn);
  return '';
}
