// A rule as the command line describes it, before it becomes Rule objects: the built-in part (-s, -d, -i, -o, -p,
// -f, each invertible), the match modules in the order they were loaded (an implicit `-p tcp --dport` loads tcp at
// that point, as iptables does), the target (a verdict, a chain jump or goto, or a target module) and -c counters.
// A spec is made once into a RuleTemplate (its match and target instances, shared by every rule made from it except
// instances that keep per-rule state, which each rule gets fresh), and `instantiate` turns that into one Rule per
// source × destination address (`-s a,b` makes two rules), each with its own counters and its exact iptables-save
// text, worked out when first asked for.

import type { Arg } from './args.js';
import { failAt } from './args.js';
import {
  type ExtParser,
  findMatch,
  findTarget,
  KNOWN_TARGETS,
  type OptionSpec,
  type ProtoSpec,
  type RuleEnv,
  UNSUPPORTED_MATCHES,
} from './ext.js';
import './matches/index.js';
import { JumpTarget, STANDARD_VERDICTS, type StandardVerdict, VerdictTarget } from './targets/standard.js';
import './targets/index.js';
import { protoName } from './protocols.js';
import type { AddrSpec, IfaceSpec, Match, Rule, SrcPos, Target } from './types.js';
import { ifaceText, parseAddrList, parseIface, parseProtocol, protoSaveName, saveAddr } from './values.js';

/** Longest chain or target name (XT_EXTENSION_MAXNAMELEN - 1). */
export const MAX_CHAIN_NAME = 28;

interface ExtSlot {
  kind: 'match' | 'target';
  name: string;
  options: readonly OptionSpec[];
  parser: ExtParser<Match> | ExtParser<Target>;
  /** The word that loaded the module (`-m tcp`, `-j DNAT`, or the option that loaded it implicitly). */
  at: Arg;
  /** Options given so far (few: a list). */
  seen: string[];
}

export type TargetSpec =
  | { kind: 'verdict'; name: StandardVerdict }
  | { kind: 'jump'; chain: string; goto: boolean }
  | { kind: 'ext'; slot: ExtSlot };

/** The parsed rule part of one command line. */
export interface RuleSpec {
  srcs: AddrSpec[] | null;
  dsts: AddrSpec[] | null;
  inIface: IfaceSpec | null;
  outIface: IfaceSpec | null;
  proto: ProtoSpec | null;
  fragment: { inv: boolean } | null;
  /** Match modules in load order. */
  matches: readonly { name: string; parser: ExtParser<Match> }[];
  target: { spec: TargetSpec; pos?: SrcPos } | null;
  counters: { packets: number; bytes: number } | null;
  /** First word of the command or restore line. */
  pos?: SrcPos;
  /** What the rules made from this spec share (templateOf, made on first use). */
  template?: RuleTemplate;
}

/** `-p` specs never change: every rule with the same one shares it. */
const protoSpecs: ProtoSpec[] = [];

function protoSpec(num: number, inv: boolean): ProtoSpec {
  const k = num * 2 + (inv ? 1 : 0);
  let p = protoSpecs[k];
  if (p === undefined) {
    p = { num, inv };
    protoSpecs[k] = p;
  }
  return p;
}

/** An extension option the command line may name: which loaded module owns it. */
export interface ExtOption {
  name: string;
  spec: OptionSpec;
  slot: ExtSlot;
  /** Load order of the slot: the same option of two loaded modules are two getopt entries. */
  slotIndex: number;
}

/** Collects the rule options of one command line (see command.ts for the getopt loop that feeds it). */
export class RuleBuilder implements RuleEnv {
  proto: ProtoSpec | null = null;
  private src: { at: Arg; inv: boolean } | null = null;
  private dst: { at: Arg; inv: boolean } | null = null;
  private inIface: IfaceSpec | null = null;
  private outIface: IfaceSpec | null = null;
  private fragment: { inv: boolean } | null = null;
  private slots: ExtSlot[] = [];
  private target: { spec: TargetSpec; at: Arg } | null = null;
  private counters: { packets: number; bytes: number } | null = null;
  private implicitTried = false;
  /** extOptions() until the next module loads. */
  private extCache: ExtOption[] | null = null;
  /** Any rule option was given (commands that take no rule refuse them). */
  firstRuleOption: Arg | null = null;

  private mark(at: Arg): void {
    this.firstRuleOption ??= at;
  }

  /** `-s`/`-d`: addresses are parsed at the end, as iptables does (a stray word after them is reported first). */
  address(which: 's' | 'd', at: Arg, value: Arg, inv: boolean): void {
    this.mark(at);
    const cur = which === 's' ? this.src : this.dst;
    if (cur !== null) failAt(at, `multiple -${which} flags not allowed`);
    if (which === 's') this.src = { at: value, inv };
    else this.dst = { at: value, inv };
  }

  iface(which: 'i' | 'o', at: Arg, value: Arg, inv: boolean): void {
    this.mark(at);
    if ((which === 'i' ? this.inIface : this.outIface) !== null) failAt(at, `multiple -${which} flags not allowed`);
    const spec = parseIface(value, inv);
    if (which === 'i') this.inIface = spec;
    else this.outIface = spec;
  }

  protocol(at: Arg, value: Arg, inv: boolean): void {
    this.mark(at);
    if (this.proto !== null) failAt(at, 'multiple -p flags not allowed');
    const num = parseProtocol(value);
    if (num === 0 && inv) failAt(value, 'rule would never match protocol');
    this.proto = protoSpec(num, inv);
  }

  frag(at: Arg, inv: boolean): void {
    this.mark(at);
    if (this.fragment !== null) failAt(at, 'multiple -f flags not allowed');
    this.fragment = { inv };
  }

  setCounters(at: Arg, packets: Arg, bytes: Arg): void {
    this.mark(at);
    if (this.counters !== null) failAt(at, 'multiple -c flags not allowed');
    if (!/^[0-9]+$/.test(packets.text)) failAt(packets, '-c packet counter not numeric');
    if (!/^[0-9]+$/.test(bytes.text)) failAt(bytes, '-c byte counter not numeric');
    this.counters = { packets: Number(packets.text), bytes: Number(bytes.text) };
  }

  /** `-m NAME`. */
  loadMatch(at: Arg, value: Arg): void {
    this.mark(at);
    const name = value.text;
    const mod = findMatch(name);
    if (mod === undefined) {
      if (UNSUPPORTED_MATCHES.has(name)) failAt(value, `match \`${name}' is not supported by podwire`);
      failAt(value, `Couldn't load match \`${name}':No such file or directory`);
    }
    this.extCache = null;
    this.slots.push({
      kind: 'match',
      name,
      options: mod.options,
      parser: mod.parser(this),
      at: value,
      seen: [],
    });
  }

  /** `-j NAME` / `-g CHAIN`. */
  jump(at: Arg, value: Arg, goto: boolean): void {
    this.mark(at);
    if (this.target !== null) failAt(at, 'multiple -j flags not allowed');
    const name = value.text;
    if (name.length > MAX_CHAIN_NAME) failAt(value, `Invalid target name \`${name}' (${MAX_CHAIN_NAME} chars max)`);
    if (name === '' || /\s/.test(name)) failAt(value, `Invalid target name \`${name}'`);
    if (!goto && (STANDARD_VERDICTS as readonly string[]).includes(name)) {
      this.target = { spec: { kind: 'verdict', name: name as StandardVerdict }, at: value };
      return;
    }
    const mod = goto ? undefined : findTarget(name);
    if (mod !== undefined) {
      const slot: ExtSlot = {
        kind: 'target',
        name,
        options: mod.options,
        parser: mod.parser(this),
        at: value,
        seen: [],
      };
      this.extCache = null;
      this.slots.push(slot);
      this.target = { spec: { kind: 'ext', slot }, at: value };
      return;
    }
    if (KNOWN_TARGETS.has(name)) {
      failAt(
        value,
        goto ? `cannot goto target \`${name}': not a chain` : `target \`${name}' is not supported by podwire`,
      );
    }
    this.target = { spec: { kind: 'jump', chain: name, goto }, at: value };
  }

  /** The option named exactly `name`, as the first match in `extOptions()` would be, without building the list. */
  extOptionNamed(name: string): ExtOption | undefined {
    if (this.extCache !== null) return this.extCache.find((o) => o.name === name);
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const slot = this.slots[i]!;
      for (const spec of slot.options) {
        if (spec.name === name || spec.aliases?.includes(name)) return { name, spec, slot, slotIndex: i };
      }
    }
    return undefined;
  }

  /** Options of the loaded modules, newest first (getopt finds the most recently merged option first). */
  extOptions(): ExtOption[] {
    if (this.extCache !== null) return this.extCache;
    const out: ExtOption[] = [];
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const slot = this.slots[i]!;
      for (const spec of slot.options) {
        out.push({ name: spec.name, spec, slot, slotIndex: i });
        for (const a of spec.aliases ?? []) out.push({ name: a, spec, slot, slotIndex: i });
      }
    }
    this.extCache = out;
    return out;
  }

  /** Hands an option to its module. */
  extOption(o: ExtOption, tok: Arg, values: readonly Arg[], inv: boolean): void {
    this.mark(tok);
    const { slot, spec } = o;
    if (inv && !spec.invert) failAt(tok, `${slot.name}: option "--${spec.name}" cannot be inverted.`);
    if (slot.seen.includes(spec.name)) failAt(tok, `${slot.name}: option "--${spec.name}" can only be used once.`);
    slot.seen.push(spec.name);
    slot.parser.parse(spec, inv, values, tok);
  }

  /**
   * iptables' load_proto: the first unknown option after `-p NAME` loads the match named like the protocol (tcp,
   * udp, icmp) once. Returns whether a module was loaded, so that the option is looked up again.
   */
  loadImplicit(at: Arg): boolean {
    if (this.implicitTried || this.proto === null) return false;
    this.implicitTried = true;
    const name = protoName(this.proto.num);
    if (name === undefined) return false;
    const mod = findMatch(name);
    if (mod === undefined) {
      if (UNSUPPORTED_MATCHES.has(name))
        failAt(at, `match \`${name}' (loaded by -p ${name}) is not supported by podwire`);
      return false;
    }
    this.extCache = null;
    this.slots.push({ kind: 'match', name, options: mod.options, parser: mod.parser(this), at, seen: [] });
    return true;
  }

  /** Final checks of every module, then the spec. `pos` is the line's first word. */
  finish(pos?: SrcPos): RuleSpec {
    const srcs = this.src ? parseAddrList(this.src.at, this.src.inv) : null;
    const dsts = this.dst ? parseAddrList(this.dst.at, this.dst.inv) : null;
    if (srcs !== null) refuseEmptyInverse(srcs, this.src!.at);
    if (dsts !== null) refuseEmptyInverse(dsts, this.dst!.at);
    for (const slot of this.slots) slot.parser.finish(this, slot.at);
    // A match slot is what the spec lists (its name and parser).
    const matches: { name: string; parser: ExtParser<Match> }[] = [];
    for (const s of this.slots) if (s.kind === 'match') matches.push(s as { name: string; parser: ExtParser<Match> });
    let target: RuleSpec['target'] = null;
    if (this.target) {
      const p = this.target.at.pos;
      target = p ? { spec: this.target.spec, pos: p } : { spec: this.target.spec };
    }
    const spec: RuleSpec = {
      srcs,
      dsts,
      inIface: this.inIface,
      outIface: this.outIface,
      proto: this.proto,
      fragment: this.fragment,
      matches,
      target,
      counters: this.counters,
    };
    if (pos) spec.pos = pos;
    return spec;
  }

  /** Whether the line gave `-i`/`-o` (for the built-in chain checks). */
  get hasIn(): boolean {
    return this.inIface !== null;
  }

  get hasOut(): boolean {
    return this.outIface !== null;
  }
}

/** `! -s 0.0.0.0/0` matches nothing: the kernel refuses it. */
function refuseEmptyInverse(list: readonly AddrSpec[], at: Arg): void {
  for (const a of list) {
    if (a.inv && a.mask === 0) failAt(at, 'iptables: Invalid argument (the inverted address matches nothing)');
  }
}

/** `-i +`: every interface, the same as no -i (`! -i +` is kept: it matches nothing). */
function matchesAnyIface(i: IfaceSpec): boolean {
  return i.name === '' && i.wildcard && !i.inv;
}

/** The built-in part as iptables-save prints it: `-s`, `-d`, `-i`, `-o`, `-p`, `-f`, each with its `!`. */
export function ipPartText(r: Pick<Rule, 'src' | 'dst' | 'inIface' | 'outIface' | 'proto' | 'fragment'>): string {
  const parts: string[] = [];
  const not = (inv: boolean): string => (inv ? '! ' : '');
  if (r.src && r.src.mask !== 0) parts.push(`${not(r.src.inv)}-s ${saveAddr(r.src.addr, r.src.mask)}`);
  if (r.dst && r.dst.mask !== 0) parts.push(`${not(r.dst.inv)}-d ${saveAddr(r.dst.addr, r.dst.mask)}`);
  if (r.inIface && !matchesAnyIface(r.inIface)) {
    parts.push(`${not(r.inIface.inv)}-i ${ifaceText(r.inIface)}`);
  }
  if (r.outIface && !matchesAnyIface(r.outIface)) {
    parts.push(`${not(r.outIface.inv)}-o ${ifaceText(r.outIface)}`);
  }
  if (r.proto && r.proto.num !== 0) parts.push(`${not(r.proto.inv)}-p ${protoSaveName(r.proto.num)}`);
  if (r.fragment) parts.push(`${not(r.fragment.inv)}-f`);
  return parts.join(' ');
}

/** The iptables-save text of a rule after `-A CHAIN `; `counters` puts `-c P B` before the target, as `-S -v`. */
export function ruleText(r: Omit<Rule, 'text'>, counters = false): string {
  const parts: string[] = [];
  const ip = ipPartText(r);
  if (ip) parts.push(ip);
  for (const m of r.matches) parts.push(m.save());
  if (counters) parts.push(`-c ${r.counters.packets} ${r.counters.bytes}`);
  if (r.target) parts.push(r.target.save());
  return parts.join(' ');
}

/**
 * Verdicts and jumps never change: rules share them. A few recent jump targets are remembered (kube-proxy jumps to
 * KUBE-MARK-MASQ from most of its chains; the other targets are mostly different every time).
 */
const verdicts = new Map<StandardVerdict, VerdictTarget>();
const recentJumps: (JumpTarget | undefined)[] = new Array(8);
let nextJump = 0;

function jumpTarget(chain: string, goto: boolean): JumpTarget {
  for (const t of recentJumps) if (t !== undefined && t.goto === goto && t.name === chain) return t;
  const t = new JumpTarget(chain, goto);
  recentJumps[nextJump] = t;
  nextJump = (nextJump + 1) % recentJumps.length;
  return t;
}

function makeTarget(spec: TargetSpec): Target {
  switch (spec.kind) {
    case 'verdict': {
      let t = verdicts.get(spec.name);
      if (t === undefined) {
        t = new VerdictTarget(spec.name);
        verdicts.set(spec.name, t);
      }
      return t;
    }
    case 'jump':
      return jumpTarget(spec.chain, spec.goto);
    case 'ext':
      return (spec.slot.parser as ExtParser<Target>).create();
  }
}

/** Where the `-j`/`-g` word of a rule was (for commit errors about its target). */
export function targetPosOf(r: Rule): SrcPos | undefined {
  return r.targetPos;
}

/** Builds a Rule from its parts, computing its text. */
export function makeRule(parts: Omit<Rule, 'text'>): Rule {
  const rule: Rule = { ...parts, text: '' };
  rule.text = ruleText(rule);
  return rule;
}

/** One rule of a template: its addresses and save text. */
export interface RulePart {
  readonly src: AddrSpec | null;
  readonly dst: AddrSpec | null;
  /** The save text, worked out when first asked for (rules share it). */
  text?: string;
}

const NO_PARTS: readonly RulePart[] = [];

/**
 * What every rule made from one spec shares: the built-in part, the match and target instances (none of them
 * changes once created, except the few that keep per-rule state, which each rule gets fresh from `perRule`) and
 * the save text of each source × destination combination (the first inline, any others in `more`). Computed once
 * per spec, so loading the same rule text again (kube-proxy re-sends its KUBE-SERVICES chain on every sync)
 * allocates only the rule and its counters.
 */
export interface RuleTemplate extends RulePart {
  readonly more: readonly RulePart[];
  readonly inIface: IfaceSpec | null;
  readonly outIface: IfaceSpec | null;
  readonly proto: ProtoSpec | null;
  readonly fragment: { inv: boolean } | null;
  readonly matches: Match[];
  /** Parsers of matches with per-rule state, by position in `matches` (null: none has any). */
  readonly perRule: readonly (ExtParser<Match> | null)[] | null;
  readonly target: Target | null;
  readonly counters: { packets: number; bytes: number } | null;
  /** The line gave `-i` or `-o` (even `-i +`, which matches anything): built-in chains check them. */
  readonly ifaceGiven: boolean;
  /**
   * Where the `-j`/`-g` word starts in the rule text the template was parsed from, for a template kept by
   * iptables-restore's line cache (-1: not known, or no target).
   */
  targetOff: number;
}

/** The template of a spec, made on first use. */
export function templateOf(spec: RuleSpec): RuleTemplate {
  spec.template ??= makeTemplate(spec);
  return spec.template;
}

const NO_MATCHES: Match[] = [];

function makeTemplate(spec: RuleSpec): RuleTemplate {
  const n = spec.matches.length;
  let matches = NO_MATCHES;
  let perRule: (ExtParser<Match> | null)[] | null = null;
  if (n !== 0) {
    // Sized once: a pushed array keeps room to grow, and every rule template keeps this one.
    matches = new Array<Match>(n);
    for (let i = 0; i < n; i++) {
      const parser = spec.matches[i]!.parser;
      const m = parser.create();
      matches[i] = m;
      if (m.perRuleState === true) {
        perRule ??= new Array<ExtParser<Match> | null>(n).fill(null);
        perRule[i] = parser;
      }
    }
  }
  const target = spec.target ? makeTarget(spec.target.spec) : null;
  const inIface = spec.inIface && !matchesAnyIface(spec.inIface) ? spec.inIface : null;
  const outIface = spec.outIface && !matchesAnyIface(spec.outIface) ? spec.outIface : null;
  const proto = spec.proto && spec.proto.num !== 0 ? spec.proto : null;
  const srcs = spec.srcs;
  const dsts = spec.dsts;
  // Most rules have at most one source and one destination: one part, the template itself.
  let more: readonly RulePart[] = NO_PARTS;
  if ((srcs?.length ?? 1) > 1 || (dsts?.length ?? 1) > 1) {
    const parts: RulePart[] = [];
    for (const s of srcs ?? [null]) {
      for (const d of dsts ?? [null]) parts.push({ src: given(s), dst: given(d) });
    }
    more = parts.slice(1);
  }
  return {
    src: given(srcs?.[0]),
    dst: given(dsts?.[0]),
    more,
    inIface,
    outIface,
    proto,
    fragment: spec.fragment,
    matches,
    perRule,
    target,
    counters: spec.counters,
    ifaceGiven: spec.inIface !== null || spec.outIface !== null,
    targetOff: -1,
  };
}

/** An address that restricts anything (`-s 0.0.0.0/0` does not). */
function given(a: AddrSpec | null | undefined): AddrSpec | null {
  return a && a.mask !== 0 ? a : null;
}

/** The rules a template stands for, each with its own counters; `pos` and `targetPos` are where the line was. */
export function instantiateTemplate(t: RuleTemplate, pos?: SrcPos, targetPos?: SrcPos): Rule[] {
  const out = [ruleOf(t, t, pos, targetPos)];
  for (const part of t.more) out.push(ruleOf(t, part, pos, targetPos));
  return out;
}

/**
 * A rule made from a template: its own counters, the template's parts (read through, so a rule costs a few fields
 * whatever its matches), and where its line was. A rule of a plain document keeps its line number and target column
 * and makes the positions when asked (only errors ask). Its save text is worked out on first use and kept with the
 * template's part, so loading rules costs no text (kube-proxy's hundreds of thousands of rules are rarely listed).
 */
class TemplateRule implements Rule {
  /** The rule's counters, kept on the rule itself (`counters` is the rule): one object less per rule. */
  packets: number;
  bytes: number;
  readonly #t: RuleTemplate;
  readonly #part: RulePart;
  /** The rule's own match instances, when some match keeps per-rule state. */
  readonly #matches: Match[] | null;
  /** A plain document's file (undefined: the positions are given as objects). */
  readonly #file: string | undefined;
  readonly #line: number;
  /** Column of the target word (-1: none). */
  readonly #col: number;
  readonly #pos: SrcPos | undefined;
  readonly #targetPos: SrcPos | undefined;

  constructor(
    t: RuleTemplate,
    part: RulePart,
    file: string | undefined,
    line: number,
    col: number,
    pos: SrcPos | undefined,
    targetPos: SrcPos | undefined,
  ) {
    const perRule = t.perRule;
    this.packets = t.counters?.packets ?? 0;
    this.bytes = t.counters?.bytes ?? 0;
    this.#t = t;
    this.#part = part;
    this.#matches = perRule === null ? null : t.matches.map((m, i) => perRule[i]?.create() ?? m);
    this.#file = file;
    this.#line = line;
    this.#col = col;
    this.#pos = pos;
    this.#targetPos = targetPos;
  }

  get counters(): { packets: number; bytes: number } {
    return this;
  }

  get src(): AddrSpec | null {
    return this.#part.src;
  }

  get dst(): AddrSpec | null {
    return this.#part.dst;
  }

  get inIface(): IfaceSpec | null {
    return this.#t.inIface;
  }

  get outIface(): IfaceSpec | null {
    return this.#t.outIface;
  }

  get proto(): ProtoSpec | null {
    return this.#t.proto;
  }

  get fragment(): { inv: boolean } | null {
    return this.#t.fragment;
  }

  get matches(): Match[] {
    return this.#matches ?? this.#t.matches;
  }

  get target(): Target | null {
    return this.#t.target;
  }

  get pos(): SrcPos | undefined {
    if (this.#file === undefined) return this.#pos;
    return { file: this.#file, line: this.#line, col: 1 };
  }

  get targetPos(): SrcPos | undefined {
    if (this.#t.target === null) return undefined;
    if (this.#file === undefined) return this.#targetPos;
    return this.#col < 0 ? undefined : { file: this.#file, line: this.#line, col: this.#col };
  }

  get text(): string {
    this.#part.text ??= ruleText(this);
    return this.#part.text;
  }

  /** Both rules were made from one part of one template: they match, jump and save alike. */
  static alike(a: Rule, b: Rule): boolean {
    return a instanceof TemplateRule && b instanceof TemplateRule && a.#t === b.#t && a.#part === b.#part;
  }
}

/**
 * The two rule lists are made from the same templates, one for one, so everything worked out from the rules alone
 * (validation summary, traversal index) holds for both. False when it cannot tell.
 */
export function sameRules(a: readonly Rule[], b: readonly Rule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !TemplateRule.alike(a[i]!, b[i]!)) return false;
  return true;
}

/** The rule of `t` with the addresses of `part` (`t` itself for the first). */
export function ruleOf(t: RuleTemplate, part: RulePart, pos: SrcPos | undefined, targetPos: SrcPos | undefined): Rule {
  return new TemplateRule(t, part, undefined, 0, -1, pos, targetPos);
}

/**
 * The rule of `t` from line `line` of the plain document `file` (its first word in column 1), its target word in
 * column `targetCol` (-1: none).
 */
export function ruleAtLine(t: RuleTemplate, part: RulePart, file: string, line: number, targetCol: number): Rule {
  return new TemplateRule(t, part, file, line, targetCol, undefined, undefined);
}

/** The save text of one part of a template. */
export function partText(t: RuleTemplate, part: RulePart): string {
  part.text ??= ruleText({ ...templateFields(t), src: part.src, dst: part.dst });
  return part.text;
}

function templateFields(t: RuleTemplate): Omit<Rule, 'text' | 'src' | 'dst'> {
  return {
    inIface: t.inIface,
    outIface: t.outIface,
    proto: t.proto,
    fragment: t.fragment,
    matches: t.matches,
    target: t.target,
    counters: { packets: 0, bytes: 0 },
  };
}

/** The rules a spec stands for: one per source × destination, sharing the spec's template. */
export function instantiate(spec: RuleSpec): Rule[] {
  return instantiateTemplate(templateOf(spec), spec.pos, spec.target?.pos);
}

/** The save texts a spec stands for (what -D and -C compare), without creating module state twice. */
export function specTexts(spec: RuleSpec): string[] {
  const t = templateOf(spec);
  return [partText(t, t), ...t.more.map((p) => partText(t, p))];
}
