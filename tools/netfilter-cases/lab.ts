// Runs one netfilter case in real Linux: fresh namespaces `pw-nfc-<id>-*`, the setup lines (confined by kernel-lab's
// rewriter), `iptables-restore` of each namespace's rules, the listeners, one client step judged exactly as
// kernel-lab judges it (same clients, capture and classifier), then `iptables-save -c` and `conntrack -L` of every
// namespace that had rules, read before anything is torn down. Every process started is killed and every namespace
// deleted in `finally`, also on errors and when the run's time bound expires. Root only; needs what kernel-lab needs
// plus iptables-restore/iptables-save (iptables-legacy-* with NFC_IPTABLES=legacy) and conntrack.

import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Capture } from '../kernel-lab/capture.js';
import { classifyConnect, classifyPing } from '../kernel-lab/classify.js';
import { destroyNamespace, listNamespaces } from '../kernel-lab/cleanup.js';
import { parsePing, pingArgs, runConnect } from '../kernel-lab/clients.js';
import { run, runOk } from '../kernel-lab/exec.js';
import { kernelLabAvailable } from '../kernel-lab/lab.js';
import type { LabNames } from '../kernel-lab/names.js';
import { rewriteSetupLine } from '../kernel-lab/rewrite.js';
import { startServer } from '../kernel-lab/servers.js';
import type { LabAvailability, LabPacket, LabStepResult } from '../kernel-lab/types.js';
import { NfcNames, removeStaleNfcNamespaces } from './names.js';
import type { NfCase, NfEnvironment, NfFixture, NfObserved } from './types.js';

const CMD_MS = 15_000;
const SETTLE_MS = 200;
export const DEFAULT_WAIT_S = 4;

function iptablesTool(which: 'restore' | 'save'): string {
  return process.env.NFC_IPTABLES === 'legacy' ? `iptables-legacy-${which}` : `iptables-${which}`;
}

let availability: LabAvailability | undefined;

/** kernel-lab's requirements plus iptables-restore/-save and conntrack, and a namespace where iptables works. */
export async function netfilterLabAvailable(): Promise<LabAvailability> {
  if (availability) return availability;
  const lab = kernelLabAvailable();
  if (!lab.ok) {
    availability = lab;
    return lab;
  }
  for (const [tool, arg] of [
    [iptablesTool('restore'), '--version'],
    [iptablesTool('save'), '--version'],
    ['conntrack', '--version'],
  ] as const) {
    const r = await run(tool, [arg], { timeoutMs: 10_000 });
    if (r.code !== 0) {
      availability = {
        ok: false,
        why: `${tool} is not usable (${r.spawnError ?? `exit ${r.code}`}); apt-get install -y iptables conntrack`,
      };
      return availability;
    }
  }
  const names = new NfcNames();
  const ns = names.map('probe');
  try {
    await runOk('ip', ['netns', 'add', ns], { timeoutMs: CMD_MS });
    const r = await run('ip', ['netns', 'exec', ns, iptablesTool('save')], { timeoutMs: CMD_MS });
    availability =
      r.code === 0 ? { ok: true } : { ok: false, why: `iptables does not work in a namespace: ${r.stderr}` };
  } catch (e) {
    availability = { ok: false, why: (e as Error).message };
  } finally {
    await destroyNamespace(ns);
  }
  return availability;
}

/** Versions of what produced a fixture. */
export async function environment(waitSeconds: number): Promise<NfEnvironment> {
  const first = async (file: string, args: string[]) =>
    (await run(file, args, { timeoutMs: 10_000 })).stdout.trim().split('\n')[0] ?? '';
  return {
    kernel: await first('uname', ['-r']),
    iptables: await first(iptablesTool('save'), ['--version']),
    conntrack: await first('conntrack', ['--version']),
    waitSeconds,
  };
}

export interface NfRunOptions {
  /** Bound on the whole case, setup to cleanup. Default 60 s. */
  timeoutMs?: number;
  waitSeconds?: number;
}

const ATTEMPTS = 3;

/**
 * True when the TCP client closed late: it acknowledged the server's FIN on its own (the delayed-ACK timer, 40 ms,
 * fired before the client process got round to close()) and sent its FIN afterwards, one packet more than when the
 * client closes at once. Only scheduling decides that, so such a run is repeated. Loopback-only exchanges (every
 * packet `in`) cannot be told apart and are taken as they are.
 */
export function clientClosedLate(packets: readonly LabPacket[]): boolean {
  const flags = (p: LabPacket) => /Flags \[([^\]]*)\]/.exec(p.summary)?.[1];
  const serverFin = packets.findIndex((p) => p.dir === 'in' && p.summary.startsWith('TCP') && flags(p)?.includes('F'));
  if (serverFin < 0) return false;
  for (const p of packets.slice(serverFin + 1)) {
    if (p.dir !== 'out' || !p.summary.startsWith('TCP')) continue;
    const f = flags(p) ?? '';
    if (f.includes('F')) return false;
    if (f === '.') return true;
  }
  return false;
}

/**
 * Runs `c` in fresh namespaces and returns what Linux did. A TCP exchange whose client closed late (see
 * clientClosedLate) is run again, up to three times in all.
 */
export async function runNetfilterCase(c: NfCase, opts: NfRunOptions = {}): Promise<NfObserved> {
  const tcp = c.step.kind === 'connect' && c.step.proto === 'tcp';
  for (let i = 0; i < ATTEMPTS; i++) {
    const observed = await runNetfilterCaseOnce(c, opts);
    if (!tcp || !clientClosedLate(observed.packets)) return observed;
  }
  throw new Error(
    `netfilter case ${c.name}: the client closed late in ${ATTEMPTS} runs (machine too busy? try NFC_JOBS=1)`,
  );
}

async function runNetfilterCaseOnce(c: NfCase, opts: NfRunOptions): Promise<NfObserved> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const wait = opts.waitSeconds ?? DEFAULT_WAIT_S;
  const abort = new AbortController();
  const signal = abort.signal;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const names = new NfcNames();
  const procs: ChildProcess[] = [];
  const track = (p: ChildProcess) => {
    procs.push(p);
  };
  const bounded = { signal, timeoutMs: CMD_MS };
  let dir: string | undefined;
  try {
    await removeStaleNfcNamespaces(signal);
    dir = await mkdtemp(join(tmpdir(), 'pw-nfc-'));
    await runOk('ip', ['netns', 'add', names.root], bounded);
    await runOk('ip', ['-n', names.root, 'link', 'set', 'lo', 'up'], bounded);
    // The rewriter needs LabNames' shape (root, map, of, owns); NfcNames has it, with its own prefix.
    const labNames: LabNames = names;
    for (const line of c.setup) {
      const cmd = rewriteSetupLine(line, labNames);
      if (!cmd) continue;
      await runOk(cmd.argv[0]!, cmd.argv.slice(1), { ...bounded, what: line });
    }
    if (c.settleMs) await sleep(c.settleMs);
    for (const [ns, text] of Object.entries(c.rules)) {
      const file = join(dir, `rules-${ns}.txt`);
      await writeFile(file, text);
      await runOk('ip', ['netns', 'exec', names.of(ns), iptablesTool('restore'), file], {
        ...bounded,
        what: `iptables-restore (rules of ${ns})`,
      });
    }
    const life = Math.ceil(timeoutMs / 1000) + 5;
    for (const l of c.listen) await startServer(names.of(l.ns), l, life, track);
    const step = await runStep(c, names, join(dir, 'step.pcap'), wait, signal, track);
    const iptablesSave: Record<string, string> = {};
    const conntrack: Record<string, string> = {};
    for (const ns of Object.keys(c.rules)) {
      const save = await runOk('ip', ['netns', 'exec', names.of(ns), iptablesTool('save'), '-c'], bounded);
      iptablesSave[ns] = stripComments(save.stdout);
      const ct = await run('ip', ['netns', 'exec', names.of(ns), 'conntrack', '-L'], bounded);
      if (ct.code !== 0) throw new Error(`conntrack -L in ${ns} failed: ${ct.stderr.trim()}`);
      conntrack[ns] = ct.stdout;
    }
    const { packets, result, replyFrom, replyTtl, icmp, replyPayload, detail } = step;
    const outcome = { result, replyFrom, replyTtl, icmp, replyPayload, detail };
    for (const k of Object.keys(outcome) as (keyof typeof outcome)[]) if (outcome[k] === undefined) delete outcome[k];
    return { outcome, packets, iptablesSave, conntrack };
  } catch (e) {
    if (signal.aborted) throw new Error(`netfilter case ${c.name}: exceeded ${timeoutMs} ms: ${(e as Error).message}`);
    throw e;
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of await listNamespaces()) if (names.owns(ns)) await destroyNamespace(ns);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** A fixture: the case, what Linux did, and with what. */
export async function captureFixture(c: NfCase, opts: NfRunOptions = {}): Promise<NfFixture> {
  const wait = opts.waitSeconds ?? DEFAULT_WAIT_S;
  const observed = await runNetfilterCase(c, { ...opts, waitSeconds: wait });
  return { ...c, observed, environment: await environment(wait) };
}

function stripComments(save: string): string {
  return save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

async function runStep(
  c: NfCase,
  names: NfcNames,
  file: string,
  wait: number,
  signal: AbortSignal,
  track: (p: ChildProcess) => void,
): Promise<LabStepResult> {
  const step = c.step;
  const ns = names.of(step.from);
  const capture = await Capture.start(ns, file, signal, track);
  const startUs = Date.now() * 1000;
  if (step.kind === 'ping') {
    const count = step.count ?? 1;
    const r = await run('ip', ['netns', 'exec', ns, 'ping', ...pingArgs(step, wait)], {
      signal,
      timeoutMs: (count + wait + 5) * 1000,
    });
    await sleep(SETTLE_MS);
    const pkts = await capture.stop();
    if (r.spawnError) throw new Error(`could not run ping: ${r.spawnError}`);
    return classifyPing(step, parsePing(r.stdout, r.stderr), r.code, pkts, startUs);
  }
  const { out } = await runConnect(ns, step, wait, signal);
  await sleep(SETTLE_MS);
  const pkts = await capture.stop();
  return classifyConnect(step, out, pkts, startUs);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
