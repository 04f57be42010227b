// Turns a scenario's setup line into the argv the lab runs, so that it acts only inside the lab's namespaces.
// Every namespace the line names (`ip netns add X`, `ip -n X`, `ip netns exec X`, `… netns X` in `ip link`) is
// mapped to `pw-lab-<id>-X`; a line with no namespace runs in the lab's stand-in for the initial namespace
// (`ip netns exec pw-lab-<id>-root …`). `echo V > /proc/sys/net/…` becomes `sysctl -w` in the namespace it would
// have written in, and `sh -c '<one command>'` is unwrapped. Option and object abbreviations are resolved in
// iproute2's own order (ip.c, bridge.c, ipnetns.c), so `ip -n`, `ip -netns`, `ip net e` are all recognised.
// Refused with a clear error, because they would reach outside the lab: `ip -all`, `ip -batch`, `ip netns
// delete -all`, `ip netns attach|identify|monitor`, a namespace given by PID or path, `nsenter`, `unshare`,
// sysctls outside `net.` (or escaping it with `..`), and paths into /proc/<pid>/ns or /run/netns. This keeps the
// network effects of a scenario inside the lab; it is not a sandbox against a hostile scenario.

import type { LabNames } from './names.js';
import { splitWords, type Word } from './shellwords.js';

export interface LabCommand {
  /** The line as the scenario wrote it. */
  text: string;
  /** What the lab runs: argv[0] is the program. */
  argv: string[];
}

export class UnsupportedCommandError extends Error {}

/** Prefix test as iproute2's `matches()`: a non-empty abbreviation of `full`. */
function matches(word: string, full: string): boolean {
  return word.length > 0 && full.startsWith(word);
}

function firstMatch(word: string, ordered: readonly string[]): string | undefined {
  return ordered.find((full) => matches(word, full));
}

// ip.c checks its options in this order; the first one the word abbreviates wins (`-b` is -batch, `-br` -brief).
const IP_OPTIONS = [
  '-loops',
  '-family',
  '-human',
  '-human-readable',
  '-iec',
  '-stats',
  '-statistics',
  '-details',
  '-resolve',
  '-oneline',
  '-timestamp',
  '-tshort',
  '-Version',
  '-force',
  '-batch',
  '-rcvbuf',
  '-color',
  '-help',
  '-netns',
  '-Numeric',
  '-all',
  '-json',
  '-pretty',
  '-brief',
  '-echo',
] as const;
const IP_OPTIONS_WITH_ARG = new Set(['-loops', '-family', '-rcvbuf']);

const BRIDGE_OPTIONS = [
  '-help',
  '-Version',
  '-stats',
  '-statistics',
  '-details',
  '-timestamp',
  '-family',
  '-netns',
  '-compressvlans',
  '-force',
  '-json',
  '-pretty',
  '-batch',
  '-color',
  '-Numeric',
] as const;
const BRIDGE_OPTIONS_WITH_ARG = new Set(['-family']);

// ip.c's object table, in order.
const IP_OBJECTS = [
  'address',
  'addrlabel',
  'maddress',
  'route',
  'rule',
  'neighbor',
  'neighbour',
  'ntable',
  'ntbl',
  'link',
  'l2tp',
  'fou',
  'ila',
  'macsec',
  'tunnel',
  'tuntap',
  'tap',
  'token',
  'tcpmetrics',
  'tcp_metrics',
  'monitor',
  'xfrm',
  'mroute',
  'mrule',
  'netns',
  'netconf',
  'vrf',
  'sr',
  'nexthop',
  'mptcp',
  'ioam',
  'stats',
  'help',
] as const;

// ipnetns.c's subcommands, in the order it tests them.
const NETNS_SUBCOMMANDS = [
  'list',
  'show',
  'lst',
  'list-id',
  'help',
  'add',
  'set',
  'delete',
  'pids',
  'identify',
  'exec',
  'monitor',
  'attach',
] as const;

const REFUSED_PROGRAMS = new Set(['nsenter', 'unshare', 'mount', 'umount', 'chroot']);
const SHELLS = new Set(['sh', 'bash', 'dash']);
const ESCAPING_PATH = /^(\/var)?\/run\/netns\b|^\/proc\/(\d+|self|thread-self)\/(ns|task)\b/;

class Rewriter {
  constructor(
    private readonly names: LabNames,
    private readonly line: string,
  ) {}

  private refuse(why: string): never {
    throw new UnsupportedCommandError(`kernel-lab: \`${this.line}\`: ${why}`);
  }

  /** argv that runs `words` as if typed inside the lab namespace `ns`. */
  plan(words: Word[], ns: string): string[] {
    if (words.some((w) => w.op)) return this.echoToProcSys(words, ns);
    const argv = words.map((w) => w.text);
    while (argv[0] === 'sudo') argv.shift();
    if (argv.length === 0) this.refuse('no command');
    for (const a of argv) {
      if (ESCAPING_PATH.test(a)) this.refuse(`the path '${a}' would reach a namespace outside the lab`);
    }
    const prog = argv[0]!;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(prog)) this.refuse('environment assignments are not supported');
    const base = prog.slice(prog.lastIndexOf('/') + 1);
    if (REFUSED_PROGRAMS.has(base)) this.refuse(`'${base}' could leave the lab's namespaces`);
    if (SHELLS.has(base)) return this.shell(argv, ns);
    if (base === 'ip') return this.ip(argv, ns);
    if (base === 'bridge') return this.bridge(argv, ns);
    if (base === 'sysctl') this.checkSysctl(argv.slice(1));
    return inNs(ns, argv);
  }

  private shell(argv: string[], ns: string): string[] {
    if (argv[1] !== '-c' || argv.length !== 3) this.refuse("a shell is supported only as `sh -c '<one command>'`");
    return this.plan(splitWords(argv[2]!), ns);
  }

  private echoToProcSys(words: Word[], ns: string): string[] {
    let k = 0;
    while (words[k]?.text === 'sudo' && !words[k]?.op) k++;
    const [w0, w1, w2, w3] = [words[k], words[k + 1], words[k + 2], words[k + 3]];
    if (w0?.text === 'ip' && w1?.text === 'netns' && w2 && matches(w2.text, 'exec') && w3 && !w3.op) {
      return this.echoToProcSys(words.slice(k + 4), this.names.map(w3.text));
    }
    const at = words.findIndex((w) => w.op);
    const head = words.slice(k, at).map((w) => w.text);
    const op = words[at]!;
    const target = words[at + 1];
    if (op.text !== '>' || !target || target.op || words.length !== at + 2 || head[0] !== 'echo') {
      this.refuse('output redirection is supported only as `echo VALUE > /proc/sys/net/…`');
    }
    const values = head.slice(1).filter((v, i) => !(i === 0 && v === '-n'));
    if (values.length !== 1) this.refuse('`echo` must write exactly one value to /proc/sys');
    const path = target.text;
    if (!path.startsWith('/proc/sys/net/')) this.refuse(`only /proc/sys/net/… can be written (got '${path}')`);
    const key = path.slice('/proc/sys/'.length);
    this.checkSysctlKey(key);
    return inNs(ns, ['sysctl', '-w', `${key}=${values[0]}`]);
  }

  /** Only per-namespace keys: under net., and (slash form) no `.`/`..` segment that could climb out of it. */
  private checkSysctlKey(key: string): void {
    if (!/^net[./]/.test(key)) this.refuse(`sysctl '${key}' is not per network namespace`);
    if (key.includes('/') && key.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
      this.refuse(`sysctl key '${key}' has an empty, '.' or '..' path segment`);
    }
  }

  private checkSysctl(args: string[]): void {
    for (const a of args) {
      if (a.startsWith('-')) {
        if (!/^-[wqenNb]+$/.test(a)) this.refuse(`sysctl option '${a}' is not supported (name keys explicitly)`);
        continue;
      }
      this.checkSysctlKey(a.split('=')[0]!);
    }
  }

  private ip(argv: string[], ns: string): string[] {
    const out = [argv[0]!];
    let i = 1;
    let netnsOpt: string | undefined;
    for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
      const raw = argv[i]!;
      const opt = raw.startsWith('--') ? raw.slice(1) : raw;
      const which = firstMatch(opt, IP_OPTIONS);
      if (which === '-all') this.refuse('`ip -all` would act on every namespace of the host');
      if (which === '-batch') this.refuse('`ip -batch` is not supported (write one command per line)');
      if (which === '-netns') {
        const v = argv[++i];
        if (v === undefined) this.refuse('`-netns` needs a name');
        netnsOpt = this.names.map(v);
        out.push('-n', netnsOpt);
        continue;
      }
      out.push(raw);
      if (which && IP_OPTIONS_WITH_ARG.has(which) && i + 1 < argv.length) out.push(argv[++i]!);
    }
    const object = argv[i] === undefined ? undefined : firstMatch(argv[i]!, IP_OBJECTS);
    if (object === 'netns') {
      if (netnsOpt) this.refuse('`ip -n NAME netns …` is not supported');
      return this.ipNetns(out, argv.slice(i));
    }
    if (object === 'monitor') this.refuse('`ip monitor` never ends');
    const rest = argv.slice(i);
    for (let k = 0; k < rest.length; k++) {
      const w = rest[k]!;
      if ((w === 'netns' || w === 'link-netns') && k + 1 < rest.length) {
        const v = rest[k + 1]!;
        if (/^\d+$/.test(v)) this.refuse(`\`${w} ${v}\` names a namespace by PID; use its name`);
        rest[k + 1] = this.names.map(v);
        k++;
      }
    }
    out.push(...rest);
    return netnsOpt ? out : inNs(ns, out);
  }

  private ipNetns(prefix: string[], rest: string[]): string[] {
    const sub = rest[1] === undefined ? 'list' : firstMatch(rest[1], NETNS_SUBCOMMANDS);
    const head = [...prefix, ...rest.slice(0, 2)];
    const name = rest[2];
    switch (sub) {
      case 'list':
      case 'show':
      case 'lst':
      case 'list-id':
      case 'help':
        return [...prefix, ...rest];
      case 'add':
      case 'pids':
      case 'set':
      case 'delete':
        if (name === undefined) this.refuse(`\`ip netns ${sub}\` needs a name`);
        if (name === '-all') this.refuse('`-all` would act on every namespace of the host');
        return [...head, this.names.map(name), ...rest.slice(3)];
      case 'exec': {
        if (name === undefined || rest.length < 4) this.refuse('`ip netns exec` needs a name and a command');
        return this.plan(
          rest.slice(3).map((text) => ({ text })),
          this.names.map(name),
        );
      }
      default:
        return this.refuse(`\`ip netns ${rest[1] ?? ''}\` is not supported in the lab`);
    }
  }

  private bridge(argv: string[], ns: string): string[] {
    const out = [argv[0]!];
    let i = 1;
    let netnsOpt = false;
    for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
      const raw = argv[i]!;
      const opt = raw.startsWith('--') ? raw.slice(1) : raw;
      const which = firstMatch(opt, BRIDGE_OPTIONS);
      if (which === '-batch') this.refuse('`bridge -batch` is not supported (write one command per line)');
      if (which === '-netns') {
        const v = argv[++i];
        if (v === undefined) this.refuse('`-netns` needs a name');
        out.push('-n', this.names.map(v));
        netnsOpt = true;
        continue;
      }
      out.push(raw);
      if (which && BRIDGE_OPTIONS_WITH_ARG.has(which) && i + 1 < argv.length) out.push(argv[++i]!);
    }
    out.push(...argv.slice(i));
    return netnsOpt ? out : inNs(ns, out);
  }
}

function inNs(ns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/**
 * The command the lab runs for one setup line, or null for a blank or comment line. Throws
 * UnsupportedCommandError (naming the line) for what cannot be confined to the lab.
 */
export function rewriteSetupLine(text: string, names: LabNames): LabCommand | null {
  const words = splitWords(text);
  if (words.length === 0) return null;
  const r = new Rewriter(names, text);
  return { text, argv: r.plan(words, names.root) };
}
