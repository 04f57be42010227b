#!/usr/bin/env node
// The podwire command line (yargs): run a scenario and check its expectations, validate one, or show what the
// emulated kernel holds after setup, printed like iproute2 and bridge(8). Exit codes: 0 every expectation holds,
// 1 an expectation failed, 2 bad input (scenario, command or option), 3 an internal error.

import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { showFdb } from '../bridge/show.js';
import { Node } from '../cni/node.js';
import { cniTool } from '../cni/tool.js';
import { conntrackList, enableNetfilter, iptablesSave } from '../iptables/index.js';
import type { Kernel } from '../netns/kernel.js';
import type { ProbeOutcome } from '../netns/probe.js';
import { ipLinkShowDetail, showAddrsBrief, showLinksBrief, showNeigh, showRoutes } from '../netns/show.js';
import { VxlanDev } from '../netns/vxlan.js';
import { codeFrame, ScenarioError } from '../scenario/errors.js';
import { parseConnectRef, parsePingRef } from '../scenario/kube-refs.js';
import { loadScenario } from '../scenario/loader.js';
import {
  buildScenario,
  describeStep,
  playStep,
  type RunReport,
  runScenario,
  runStep,
  scenarioNs,
  startStep,
} from '../scenario/runner.js';
import type { ProbeStep, Scenario } from '../scenario/types.js';
import type { TraceEvent } from '../trace/events.js';
import { PcapPerDeviceSink } from '../trace/pcap.js';
import { PcapngWriter } from '../trace/pcapng.js';
import type { CaptureSink } from '../trace/recorder.js';
import { FileByteSink, fileSinkFactory } from '../trace/sink.js';
import { renderJsonLines, renderTimeline } from '../trace/text.js';
import { parseIpv4 } from '../wire/addr.js';
import { VXLAN_IANA_PORT } from '../wire/vxlan.js';
import { writeReportFiles } from './output.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled scenario `podwire run` uses when given none. */
export const DEFAULT_SCENARIO = resolve(here, '../../scenarios/k8s-demo.yaml');

class UsageError extends Error {}

/** `--to 10.0.0.2:80 --proto tcp` → a step like the scenario's. */
function parseTraceTarget(
  from: string,
  to: string,
  proto: 'tcp' | 'udp' | 'icmp',
  src: string | undefined,
  payload: string,
  ttl: number | undefined,
): ProbeStep {
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 255))
    throw new UsageError('--ttl must be an integer from 1 to 255');
  const pos = { file: '<command line>', line: 0, col: 0 };
  const expect = { result: 'reachable' as const };
  const srcIp = src === undefined ? undefined : parseIpv4(src);
  if (srcIp === null) throw new UsageError(`--src must be an IPv4 address, got '${src}'`);
  const source = srcIp !== undefined ? { src: srcIp } : {};
  // A Service (svc/web:80, nodeport/web:80@node1, lb/web:80), resolved when the probe starts.
  const service = proto === 'icmp' ? parsePingRef(to) : parseConnectRef(to);
  if (service !== undefined) {
    if (proto === 'icmp')
      return {
        kind: 'ping',
        pos,
        expect,
        from,
        to: 0,
        service,
        count: 1,
        size: 56,
        ...source,
        ...(ttl !== undefined ? { ttl } : {}),
      };
    return { kind: 'connect', pos, expect, proto, from, to: 0, port: 0, service, payload, ...source };
  }
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(to);
  const ip = m ? parseIpv4(m[1]!) : null;
  if (!m || ip === null)
    throw new UsageError(
      `--to must be an IPv4 address, address:port or a Service (svc/<name>:<port>, nodeport/<name>:<port>@<node>, lb/<name>:<port>), got '${to}'`,
    );
  if (proto === 'icmp')
    return {
      kind: 'ping',
      pos,
      expect,
      from,
      to: ip,
      count: 1,
      size: 56,
      ...(ttl !== undefined ? { ttl } : {}),
      ...(srcIp !== undefined ? { src: srcIp } : {}),
    };
  const port = Number(m[2]);
  if (!m[2] || !(port >= 1 && port <= 65535)) throw new UsageError(`--to needs a port for ${proto}: address:port`);
  return {
    kind: 'connect',
    pos,
    expect,
    proto,
    from,
    to: ip,
    port,
    payload,
    ...(srcIp !== undefined ? { src: srcIp } : {}),
  };
}

/** One line saying what happened and, for a failure, where and why. */
function summarizeOutcome(o: ProbeOutcome, events: readonly TraceEvent[]): string {
  const parts = [`result: ${o.result}`];
  if (o.replyFrom) parts.push(`reply from ${o.replyFrom}${o.replyTtl !== undefined ? ` (ttl ${o.replyTtl})` : ''}`);
  if (o.icmp) parts.push(`icmp ${o.icmp}`);
  const drops = events.filter((e) => e.type === 'drop');
  for (const d of drops)
    if (d.type === 'drop') parts.push(`dropped in ${d.ns}${d.dev ? ` at ${d.dev}` : ''}: ${d.reason} (${d.detail})`);
  return parts.join('; ');
}

/** For the unknown-command message; keep in step with the .command() calls below. */
const COMMANDS = ['run', 'validate', 'show', 'trace', 'cni'];

/** yargs accepts any number for `--seed` (NaN, 1.5, -1); the scenario schema allows a u32, so the flag does too. */
function checkSeed(seed: number | undefined): void {
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff))
    throw new UsageError('--seed must be an integer from 0 to 4294967295');
}

/** A directory given to --out that cannot be created is bad input (exit 2), not an internal error. */
function prepareOut(dir: string): CaptureSink[] {
  try {
    return openSinks(dir);
  } catch (e) {
    throw new UsageError(`cannot write to --out ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * `validate` promises what `run` would accept, and `run` refuses a step whose `from` namespace the setup never
 * creates (runner.startStep); without this check `validate` said ok to such a file.
 */
function checkStepNamespaces(sc: Scenario, k: Kernel): void {
  // After a Kubernetes step (apply, scale …) pods may exist that the setup did not create: from there on only the
  // run can tell whether a name means something.
  let podsMayChange = false;
  for (const st of sc.steps) {
    if (st.kind === 'action') {
      const a = st.action;
      if ('node' in a && !scenarioNs(k, a.node)) throw ScenarioError.at(st.pos, `unknown node '${a.node}'`);
      if (a.kind !== 'leave') podsMayChange = true;
    } else if (!podsMayChange && !scenarioNs(k, st.from))
      throw ScenarioError.at(st.pos, `unknown namespace '${st.from}'`);
  }
}

function loadOrThrow(path: string) {
  return loadScenario(path);
}

function reportScenarioError(e: ScenarioError, io: Io): void {
  io.err(`${e.toString()}\n`);
  let frame = e.detail;
  if (!frame && e.line > 0) {
    try {
      frame = codeFrame(readFileSync(e.file, 'utf8'), e.line, e.col);
    } catch {
      frame = undefined;
    }
  }
  if (frame) io.err(`${frame}\n`);
}

function printStep(report: RunReport, i: number, io: Io, format: string, quiet: boolean): void {
  const s = report.steps[i]!;
  const title = `step ${i + 1}: ${s.step.name ?? describeStep(s.step)}`;
  if (format === 'json') {
    io.out(
      `${JSON.stringify({ type: 'step', step: i, name: title, outcome: { ...s.outcome }, ok: s.failures.length === 0, failures: s.failures })}\n`,
    );
    if (!quiet) io.out(renderJsonLines(s.events));
    return;
  }
  io.out(`── ${title}\n`);
  if (!quiet) io.out(renderTimeline(s.events));
  for (const l of s.outcome.lines) io.out(`   ${l}\n`);
  if (s.failures.length === 0) io.out(`✓ ${s.step.kind === 'action' ? 'done' : s.step.expect.result}\n\n`);
  else for (const f of s.failures) io.out(`✗ ${f}\n`);
  if (s.failures.length) io.out('\n');
}

/** The lines of a listing that belong to device `dev` (all of them when no device is given). */
function onlyDev(text: string, dev: string | undefined, mine: (line: string, dev: string) => boolean): string {
  if (dev === undefined) return text;
  return text
    .split('\n')
    .filter((l) => l !== '' && mine(l, dev))
    .map((l) => `${l}\n`)
    .join('');
}

/**
 * How to open the capture. Wireshark decodes only UDP 4789 as VXLAN by itself; for the ports the scenario's VXLAN
 * devices use (flannel: 8472) it needs a decode-as, which `-d` gives on the command line.
 */
export function captureHint(k: Kernel, path: string): string {
  const ports = new Set<number>();
  for (const ns of k.namespaces.values())
    for (const d of ns.devs.values()) if (d instanceof VxlanDev && d.dstport !== VXLAN_IANA_PORT) ports.add(d.dstport);
  if (ports.size === 0) return `open the capture with: wireshark ${path}  (or tshark -r …)\n`;
  const decode = [...ports]
    .sort((a, b) => a - b)
    .map((p) => `-d udp.port==${p},vxlan`)
    .join(' ');
  const list = [...ports].join(', ');
  return (
    `open the capture with: wireshark ${decode} ${path}\n` +
    `  (VXLAN on UDP ${list}: Wireshark decodes only 4789 as VXLAN unless told; in the GUI: Analyze → Decode As… →\n` +
    `   UDP port ${list} → VXLAN; with tshark: tshark ${decode} -r ${path})\n`
  );
}

function openSinks(dir: string): CaptureSink[] {
  mkdirSync(join(dir, 'pcap'), { recursive: true });
  return [
    new PcapngWriter(new FileByteSink(join(dir, 'capture.pcapng'))),
    new PcapPerDeviceSink(fileSinkFactory(join(dir, 'pcap'))),
  ];
}

export async function main(argv: string[], io: Io): Promise<number> {
  let code = 0;
  const parser = yargs(argv)
    .scriptName('podwire')
    .usage('$0 <command> [options]')
    .strict()
    // Without strictCommands an unknown command is reported as "Unknown argument"; the fail handler rewords it.
    .strictCommands()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      if (/^Unknown commands?: /.test(msg ?? ''))
        throw new UsageError(
          `unknown command '${argv.find((w) => !w.startsWith('-')) ?? ''}'; expected one of: ${COMMANDS.join(', ')}`,
        );
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: …"); the error is one line.
      throw new UsageError((msg ?? '').replace(/\s*\n\s*/g, ' '));
    })
    .command(
      'run [scenario]',
      'run a scenario: set it up, run its steps, check their expectations',
      (y) =>
        y
          .positional('scenario', { type: 'string', describe: 'scenario file (default: the bundled k8s-demo)' })
          .option('out', { type: 'string', describe: 'write trace, captures and diagrams to this directory' })
          .option('seed', { type: 'number', describe: 'override the scenario seed' })
          .option('format', { choices: ['text', 'json'] as const, default: 'text' as const })
          .option('quiet', { type: 'boolean', default: false, describe: 'print only step results' }),
      (a) => {
        checkSeed(a.seed);
        const file = a.scenario ?? DEFAULT_SCENARIO;
        const sc = loadOrThrow(file);
        const sinks = a.out ? prepareOut(a.out) : [];
        const report = runScenario(sc, { ...(a.seed !== undefined ? { seed: a.seed } : {}), sinks });
        if (a.format === 'text') io.out(`podwire: ${sc.name} (${file}, seed ${a.seed ?? sc.seed})\n\n`);
        for (let i = 0; i < report.steps.length; i++) printStep(report, i, io, a.format, a.quiet);
        if (a.out) {
          const files = writeReportFiles(a.out, report, sc.name);
          io.err(`wrote ${[...files, 'capture.pcapng', 'pcap/'].map((f) => join(a.out!, f)).join(', ')}\n`);
          io.err(captureHint(report.kernel, join(a.out, 'capture.pcapng')));
        }
        const failed = report.steps.filter((s) => s.failures.length).length;
        if (a.format === 'text') io.out(`${report.steps.length - failed} passed, ${failed} failed\n`);
        code = failed ? 1 : 0;
      },
    )
    .command(
      'validate <scenario>',
      'check a scenario file: syntax, schema, commands, and that its setup applies',
      (y) => y.positional('scenario', { type: 'string', demandOption: true }),
      (a) => {
        const sc = loadOrThrow(a.scenario);
        const k = buildScenario(sc, { tracing: false });
        checkStepNamespaces(sc, k);
        io.out(
          `${a.scenario}: ok (${sc.setup.length} commands, ${sc.listen.length} listeners, ${sc.steps.length} steps)\n`,
        );
      },
    )
    .command(
      'show <scenario> <namespace> <what>',
      'print links|addr|routes|neigh|fdb|iptables|conntrack of a namespace after setup, like ip -br link / ip -br addr / ip route / ip neigh / bridge fdb show / iptables-save / conntrack -L',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true })
          .positional('namespace', { type: 'string', demandOption: true })
          .positional('what', {
            choices: ['links', 'addr', 'routes', 'neigh', 'fdb', 'iptables', 'conntrack'] as const,
            demandOption: true,
          })
          .option('counters', {
            type: 'boolean',
            default: false,
            describe: 'iptables: print counters like iptables-save -c',
          })
          .option('table', { type: 'string', describe: 'routing table for routes: main, local, all or a number' })
          .option('dev', { type: 'string', describe: 'links, neigh, fdb: only this device (ip … show dev DEV)' })
          .option('details', {
            type: 'boolean',
            default: false,
            describe: 'links: like ip -d link show (driver details: vxlan id, local, dstport, …)',
          })
          .option('after-steps', { type: 'boolean', default: false, describe: 'run the steps first' }),
      (a) => {
        const sc = loadOrThrow(a.scenario);
        const k = buildScenario(sc, { tracing: false });
        if (a['after-steps']) for (const st of sc.steps) playStep(k, st);
        const ns = scenarioNs(k, a.namespace);
        if (!ns)
          throw new UsageError(
            `no namespace '${a.namespace}' in ${a.scenario} (have: ${[...k.namespaces.keys()].join(', ')})`,
          );
        switch (a.what) {
          case 'links':
            if (a.dev !== undefined && !ns.devs.has(a.dev))
              throw new UsageError(`Device "${a.dev}" does not exist in ${a.namespace}.`);
            if (a.details) io.out(ipLinkShowDetail(ns, a.dev));
            else io.out(onlyDev(showLinksBrief(ns), a.dev, (l, d) => l.split(/\s+/)[0]!.split('@')[0] === d));
            return;
          case 'addr':
            io.out(showAddrsBrief(ns));
            return;
          case 'routes': {
            const t = a.table ?? 'main';
            const id = t === 'main' ? 254 : t === 'local' ? 255 : t === 'all' ? 'all' : Number(t);
            if (id !== 'all' && !(Number.isInteger(id) && id >= 0 && id < 2 ** 32))
              throw new UsageError(`invalid table '${t}'`);
            io.out(showRoutes(ns, id));
            return;
          }
          case 'neigh':
            // `ip neigh show dev D` leaves the device out of each line.
            io.out(
              a.dev === undefined
                ? showNeigh(ns)
                : onlyDev(showNeigh(ns), a.dev, (l, d) => l.includes(` dev ${d} `)).replaceAll(` dev ${a.dev} `, ' '),
            );
            return;
          case 'fdb':
            io.out(showFdb(ns, a.dev));
            return;
          case 'iptables':
            io.out(iptablesSave(ns, { counters: a.counters }));
            return;
          case 'conntrack':
            io.out(conntrackList(ns));
            return;
        }
      },
    )
    .command(
      'trace <scenario>',
      'what happens to one packet: set the scenario up, send one probe, print its path hop by hop',
      (y) =>
        y
          .positional('scenario', { type: 'string', demandOption: true })
          .option('from', { type: 'string', demandOption: true, describe: 'namespace the packet starts in' })
          .option('to', {
            type: 'string',
            demandOption: true,
            describe: 'destination ip or ip:port, or a Service: svc/web:80, nodeport/web:80@node1, lb/web:80',
          })
          .option('proto', { choices: ['tcp', 'udp', 'icmp'] as const, default: 'tcp' as const })
          .option('src', { type: 'string', describe: 'source address to use' })
          .option('payload', { type: 'string', default: '', describe: 'data to send (tcp/udp)' })
          .option('ttl', { type: 'number', describe: 'IP TTL (icmp)' })
          .option('format', { choices: ['text', 'json'] as const, default: 'text' as const }),
      (a) => {
        const sc = loadOrThrow(a.scenario);
        const k = buildScenario(sc, {});
        const step = parseTraceTarget(a.from, a.to, a.proto, a.src, a.payload, a.ttl);
        if (!scenarioNs(k, step.from))
          throw new UsageError(
            `no namespace '${step.from}' in ${a.scenario} (have: ${[...k.namespaces.keys()].join(', ')})`,
          );
        const start = k.tracer.events.length;
        k.tracer.step = 0;
        const probe = startStep(k, step);
        runStep(k, probe);
        const events = k.tracer.events.slice(start);
        if (a.format === 'json') {
          io.out(renderJsonLines(events));
          io.out(`${JSON.stringify({ type: 'outcome', ...probe.outcome })}\n`);
        } else {
          io.out(renderTimeline(events));
          for (const l of probe.outcome.lines) io.out(`   ${l}\n`);
          io.out(`${summarizeOutcome(probe.outcome, events)}\n`);
        }
      },
    )
    .command(
      'cni <commands> <scenario>',
      'run a CNI configuration by hand against a namespace of a scenario, like cnitool: add, del, check (or a sequence such as add,check,del)',
      (y) =>
        y
          .positional('commands', {
            type: 'string',
            demandOption: true,
            describe: 'add | del | check, or several joined by commas',
          })
          .positional('scenario', { type: 'string', demandOption: true })
          .option('conf', {
            type: 'string',
            demandOption: true,
            describe: 'network configuration file (.conflist or .conf)',
          })
          .option('netns', { type: 'string', demandOption: true, describe: 'container namespace (created if missing)' })
          .option('node', { type: 'string', default: 'root', describe: 'namespace acting as the node (host side)' })
          .option('ifname', { type: 'string', default: 'eth0', describe: 'CNI_IFNAME' })
          .option('args', { type: 'string', describe: 'CNI_ARGS, e.g. "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web"' })
          .option('cap-args', { type: 'string', describe: 'CAP_ARGS as JSON, e.g. {"portMappings":[…]}' })
          .option('container-id', {
            type: 'string',
            describe: "CNI_CONTAINERID (default: cnitool's hash of the netns path)",
          }),
      (a) => {
        const cmds = a.commands.split(',').map((c) => c.trim().toLowerCase());
        for (const c of cmds)
          if (c !== 'add' && c !== 'del' && c !== 'check')
            throw new UsageError(`unknown CNI command '${c}'; expected add, del or check`);
        let confText: string;
        try {
          confText = readFileSync(a.conf, 'utf8');
        } catch (e) {
          throw new UsageError(`cannot read ${a.conf}: ${e instanceof Error ? e.message : String(e)}`);
        }
        const sc = loadOrThrow(a.scenario);
        const k = buildScenario(sc, { tracing: false });
        enableNetfilter(k);
        const host = k.namespaces.get(a.node);
        if (!host)
          throw new UsageError(
            `no namespace '${a.node}' in ${a.scenario} (have: ${[...k.namespaces.keys()].join(', ')})`,
          );
        const netns = k.namespaces.get(a.netns) ?? k.addNetns(a.netns);
        const node = new Node(k, host);
        let last = 0;
        for (const c of cmds as ('add' | 'del' | 'check')[]) {
          const r = cniTool(
            c,
            confText,
            {
              netns,
              ifName: a.ifname,
              file: a.conf,
              ...(a.args !== undefined ? { args: a.args } : {}),
              ...(a['cap-args'] !== undefined ? { capabilityArgs: a['cap-args'] } : {}),
              ...(a['container-id'] !== undefined ? { containerId: a['container-id'] } : {}),
            },
            node.env,
          );
          if (cmds.length > 1) io.out(`── ${c.toUpperCase()} (exit ${r.code})\n`);
          if (r.stdout) io.out(`${r.stdout}\n`);
          last = r.code;
          if (r.code !== 0) break;
        }
        code = last === 0 ? 0 : 1;
      },
    )
    .demandCommand(1, 'give a command: run, validate, show, trace or cni');
  try {
    await parser.parseAsync();
    return code;
  } catch (e) {
    if (e instanceof ScenarioError) {
      reportScenarioError(e, io);
      return 2;
    }
    if (e instanceof UsageError || (e instanceof Error && e.name === 'YError')) {
      io.err(`podwire: ${e.message}\n`);
      io.err("run 'podwire --help' for usage\n");
      return 2;
    }
    io.err(`podwire: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.PODWIRE_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
    return 3;
  }
}

function isMain(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const invokedDirectly = isMain();
if (invokedDirectly) {
  main(hideBin(process.argv), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }).then(
    (c) => {
      process.exitCode = c;
    },
  );
}
