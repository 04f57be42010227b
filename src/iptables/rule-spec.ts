// A rule as the command line describes it, before it becomes Rule objects: the built-in part (-s, -d, -i, -o, -p,
// -f, each invertible), the match modules in the order they were loaded (an implicit `-p tcp --dport` loads tcp at
// that point, as iptables does), the target (a verdict, a chain jump or goto, or a target module) and -c counters.
// `instantiate` turns it into one Rule per source × destination address (`-s a,b` makes two rules), each with fresh
// match and target instances and its exact iptables-save text.

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
  seen: Set<string>;
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
    this.proto = { num, inv };
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
      seen: new Set(),
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
        seen: new Set(),
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
    if (slot.seen.has(spec.name)) failAt(tok, `${slot.name}: option "--${spec.name}" can only be used once.`);
    slot.seen.add(spec.name);
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
    this.slots.push({ kind: 'match', name, options: mod.options, parser: mod.parser(this), at, seen: new Set() });
    return true;
  }

  /** Final checks of every module, then the spec. `pos` is the line's first word. */
  finish(pos?: SrcPos): RuleSpec {
    const srcs = this.src ? parseAddrList(this.src.at, this.src.inv) : null;
    const dsts = this.dst ? parseAddrList(this.dst.at, this.dst.inv) : null;
    for (const s of [...(srcs ?? []), ...(dsts ?? [])]) {
      if (s.inv && s.mask === 0) {
        failAt(
          s === srcs?.[0] ? this.src!.at : this.dst!.at,
          'iptables: Invalid argument (the inverted address matches nothing)',
        );
      }
    }
    for (const slot of this.slots) slot.parser.finish(this, slot.at);
    const matches = this.slots
      .filter((s) => s.kind === 'match')
      .map((s) => ({ name: s.name, parser: s.parser as ExtParser<Match> }));
    const spec: RuleSpec = {
      srcs,
      dsts,
      inIface: this.inIface,
      outIface: this.outIface,
      proto: this.proto,
      fragment: this.fragment,
      matches,
      target: this.target
        ? { spec: this.target.spec, ...(this.target.at.pos ? { pos: this.target.at.pos } : {}) }
        : null,
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

function makeTarget(spec: TargetSpec): Target {
  switch (spec.kind) {
    case 'verdict':
      return new VerdictTarget(spec.name);
    case 'jump':
      return new JumpTarget(spec.chain, spec.goto);
    case 'ext':
      return (spec.slot.parser as ExtParser<Target>).create();
  }
}

/** Where the `-j`/`-g` word of a rule was (for commit errors about its target). */
const targetPositions = new WeakMap<Rule, SrcPos>();

export function targetPosOf(r: Rule): SrcPos | undefined {
  return targetPositions.get(r);
}

/** Builds a Rule from its parts, computing its text. */
export function makeRule(parts: Omit<Rule, 'text'>): Rule {
  const rule: Rule = { ...parts, text: '' };
  rule.text = ruleText(rule);
  return rule;
}

/** The rules a spec stands for: one per source × destination, each with fresh module instances. */
export function instantiate(spec: RuleSpec): Rule[] {
  const srcs: (AddrSpec | null)[] = spec.srcs ?? [null];
  const dsts: (AddrSpec | null)[] = spec.dsts ?? [null];
  const out: Rule[] = [];
  for (const src of srcs) {
    for (const dst of dsts) {
      const rule = makeRule({
        src: src && src.mask !== 0 ? src : null,
        dst: dst && dst.mask !== 0 ? dst : null,
        inIface: spec.inIface && !matchesAnyIface(spec.inIface) ? spec.inIface : null,
        outIface: spec.outIface && !matchesAnyIface(spec.outIface) ? spec.outIface : null,
        proto: spec.proto && spec.proto.num !== 0 ? spec.proto : null,
        fragment: spec.fragment,
        matches: spec.matches.map((m) => m.parser.create()),
        target: spec.target ? makeTarget(spec.target.spec) : null,
        counters: { packets: spec.counters?.packets ?? 0, bytes: spec.counters?.bytes ?? 0 },
        ...(spec.pos ? { pos: spec.pos } : {}),
      });
      if (spec.target?.pos) targetPositions.set(rule, spec.target.pos);
      out.push(rule);
    }
  }
  return out;
}

/** The save texts a spec stands for (what -D and -C compare), without creating module state twice. */
export function specTexts(spec: RuleSpec): string[] {
  return instantiate(spec).map((r) => r.text);
}
