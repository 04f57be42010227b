// Replays a scenario in real Linux network namespaces and reports, step by step, what the kernel did. Order:
// remove namespaces left by crashed runs; create `pw-lab-<id>-root` for the scenario's initial namespace; run
// the caller's `prepare` hook if any (namespaces built by code, e.g. pods attached by real CNI plugins); run the
// setup lines (rewritten to stay in the lab); start the listeners; for each step capture in the `from`
// namespace (and on the caller's extra capture points), run the client, let late packets land, stop the
// captures and judge. Whatever happens — a failing command, an exception, the run's time bound — every process
// the run started is killed and every namespace with its id is deleted before the promise settles. Needs root,
// iproute2, iputils ping, tcpdump and python3.

import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpv4 } from '../../src/wire/addr.js';
import { Capture, DeviceCapture } from './capture.js';
import { classifyConnect, classifyPing } from './classify.js';
import { destroyNamespace, listNamespaces, removeStaleNamespaces } from './cleanup.js';
import { parsePing, pingArgs, runConnect } from './clients.js';
import { run, runOk } from './exec.js';
import { LabNames, newLabId } from './names.js';
import { rewriteSetupLine } from './rewrite.js';
import { startServer } from './servers.js';
import type {
  LabAvailability,
  LabCapturePoint,
  LabExtraCapture,
  LabInput,
  LabOptions,
  LabStep,
  LabStepResult,
} from './types.js';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_WAIT_S = 4;
const SETUP_CMD_MS = 15_000;
/** After the client exits: room for the packets still in flight (the FIN's ACK, a late ICMP error). */
const SETTLE_MS = 200;

let availability: LabAvailability | undefined;

/** The run hit `timeoutMs`; everything it created has been removed by the time this reaches the caller. */
export class LabTimeoutError extends Error {}

function probe(file: string, args: string[]): string | null {
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 });
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0] ?? String(e);
  }
}

/** Whether this machine can run the lab: Linux, root, the tools, and a namespace can be created. */
export function kernelLabAvailable(): LabAvailability {
  if (availability) return availability;
  const no = (why: string): LabAvailability => {
    availability = { ok: false, why };
    return availability;
  };
  if (process.platform !== 'linux') return no(`needs Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) return no('needs root (network namespaces, tcpdump)');
  const tools: [string, string[], string][] = [
    ['ip', ['-V'], 'iproute2 `ip`'],
    ['tcpdump', ['--version'], 'tcpdump'],
    ['ping', ['-V'], 'iputils ping'],
    ['python3', ['--version'], 'python3'],
  ];
  for (const [file, args, what] of tools) {
    const err = probe(file, args);
    if (err) return no(`${what} is not usable: ${err}`);
  }
  const ns = new LabNames(newLabId()).map('probe');
  const err = probe('ip', ['netns', 'add', ns]);
  if (err) return no(`cannot create a network namespace: ${err}`);
  const del = probe('ip', ['netns', 'delete', ns]);
  if (del) return no(`cannot delete network namespace ${ns}: ${del}`);
  availability = { ok: true };
  return availability;
}

/** What a device name may be (IFNAMSIZ, no slash or blank), so it cannot be taken for a tcpdump option. */
const DEV_NAME = /^[A-Za-z0-9_.@:-]{1,15}$/;

function validate(input: LabInput, captures: readonly LabCapturePoint[]): void {
  const bad = (why: string): never => {
    throw new Error(`kernel-lab: invalid input: ${why}`);
  };
  const addr = (a: string | undefined, where: string) => {
    if (a !== undefined && parseIpv4(a) === null) bad(`${where}: '${a}' is not an IPv4 address`);
  };
  const port = (p: number, where: string) => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) bad(`${where}: port ${p} out of range`);
  };
  input.listen.forEach((l, i) => {
    port(l.port, `listen[${i}]`);
    addr(l.address, `listen[${i}]`);
  });
  input.steps.forEach((s, i) => {
    const where = `steps[${i}]`;
    addr(s.to, where);
    addr(s.src, where);
    if (s.kind === 'connect') port(s.port, where);
    else {
      if (s.count !== undefined && (!Number.isInteger(s.count) || s.count < 1 || s.count > 20)) {
        bad(`${where}: count must be 1..20`);
      }
      if (s.ttl !== undefined && (!Number.isInteger(s.ttl) || s.ttl < 1 || s.ttl > 255)) bad(`${where}: ttl 1..255`);
      if (s.size !== undefined && (!Number.isInteger(s.size) || s.size < 0 || s.size > 65507)) bad(`${where}: size`);
    }
  });
  captures.forEach((c, i) => {
    if (!DEV_NAME.test(c.dev) || c.dev.startsWith('-')) bad(`captures[${i}]: '${c.dev}' is not a device name`);
  });
}

/** Replays `input` in real namespaces; one result per step, in order. */
export async function runKernelLab(input: LabInput, opts: LabOptions = {}): Promise<LabStepResult[]> {
  const avail = kernelLabAvailable();
  if (!avail.ok) throw new Error(`kernel-lab: not available: ${avail.why}`);
  const captures = opts.captures ?? [];
  validate(input, captures);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const wait = opts.waitSeconds ?? DEFAULT_WAIT_S;
  const abort = new AbortController();
  const signal = abort.signal;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const names = new LabNames(newLabId());
  const procs: ChildProcess[] = [];
  const track = (c: ChildProcess) => {
    procs.push(c);
  };
  const checkTime = (phase: string) => {
    if (signal.aborted) throw new LabTimeoutError(`kernel-lab: run exceeded ${timeoutMs} ms (during ${phase})`);
  };
  let dir: string | undefined;
  try {
    await removeStaleNamespaces(signal);
    dir = await mkdtemp(join(tmpdir(), 'pw-lab-'));
    await runOk('ip', ['netns', 'add', names.root], { signal, timeoutMs: SETUP_CMD_MS });
    if (opts.rootLoopbackUp ?? true) {
      await runOk('ip', ['-n', names.root, 'link', 'set', 'lo', 'up'], { signal, timeoutMs: SETUP_CMD_MS });
    }
    if (opts.prepare) {
      checkTime('prepare');
      await opts.prepare({ names, dir, signal });
    }
    for (const line of input.setup) {
      const cmd = rewriteSetupLine(line.text, names);
      if (!cmd) continue;
      checkTime(`setup \`${line.text}\``);
      await runOk(cmd.argv[0]!, cmd.argv.slice(1), { signal, timeoutMs: SETUP_CMD_MS, what: line.text });
    }
    const present = new Set(await listNamespaces(signal));
    const used = [...input.listen.map((l) => l.ns), ...input.steps.map((s) => s.from), ...captures.map((c) => c.ns)];
    for (const n of used) {
      if (!present.has(names.of(n))) throw new Error(`kernel-lab: namespace '${n}' does not exist after setup`);
    }
    const lifeSeconds = Math.ceil(timeoutMs / 1000) + 5;
    for (const l of input.listen) {
      checkTime('starting listeners');
      await startServer(names.of(l.ns), l, lifeSeconds, track);
    }
    const results: LabStepResult[] = [];
    for (const [i, step] of input.steps.entries()) {
      checkTime(`step ${i}`);
      results.push(await runStep(step, names, captures, join(dir, `step${i}`), wait, signal, track));
      checkTime(`step ${i}`);
    }
    return results;
  } catch (e) {
    if (signal.aborted && !(e instanceof LabTimeoutError)) {
      throw new LabTimeoutError(`kernel-lab: run exceeded ${timeoutMs} ms: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  } finally {
    clearTimeout(timer);
    for (const c of procs) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    const problems: string[] = [];
    for (const ns of await listNamespaces()) {
      if (!names.owns(ns)) continue;
      const p = await destroyNamespace(ns);
      if (p) problems.push(p);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
    if (problems.length > 0) process.emitWarning(`kernel-lab cleanup: ${problems.join('; ')}`);
  }
}

async function runStep(
  step: LabStep,
  names: LabNames,
  points: readonly LabCapturePoint[],
  filePrefix: string,
  wait: number,
  signal: AbortSignal,
  track: (c: ChildProcess) => void,
): Promise<LabStepResult> {
  const ns = names.of(step.from);
  const capture = await Capture.start(ns, `${filePrefix}.pcap`, signal, track);
  const devCaptures: DeviceCapture[] = [];
  for (const [j, p] of points.entries()) {
    devCaptures.push(await DeviceCapture.start(names.of(p.ns), p.dev, `${filePrefix}-x${j}.pcap`, signal, track));
  }
  const startUs = Date.now() * 1000;
  const stopExtra = async (): Promise<LabExtraCapture[]> => {
    const out: LabExtraCapture[] = [];
    for (const [j, c] of devCaptures.entries()) {
      const records = await c.stop();
      const frames = records.map((r) => ({ tMs: Math.round((r.tsUs - startUs) / 100) / 10, bytes: r.data }));
      out.push({ ns: points[j]!.ns, dev: points[j]!.dev, frames });
    }
    return out;
  };
  const withExtra = (r: LabStepResult, extra: LabExtraCapture[]): LabStepResult =>
    points.length > 0 ? { ...r, extra } : r;
  if (step.kind === 'ping') {
    const count = step.count ?? 1;
    const r = await run('ip', ['netns', 'exec', ns, 'ping', ...pingArgs(step, wait)], {
      signal,
      timeoutMs: (count + wait + 5) * 1000,
    });
    await sleep(SETTLE_MS);
    const pkts = await capture.stop();
    const extra = await stopExtra();
    if (r.spawnError) throw new Error(`kernel-lab: could not run ping: ${r.spawnError}`);
    return withExtra(classifyPing(step, parsePing(r.stdout, r.stderr), r.code, pkts, startUs), extra);
  }
  const { out } = await runConnect(ns, step, wait, signal);
  await sleep(SETTLE_MS);
  const pkts = await capture.stop();
  const extra = await stopExtra();
  return withExtra(classifyConnect(step, out, pkts, startUs), extra);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
