// Runs a scenario on a fresh emulated kernel: builds its cluster (nodes, pod network, pods; their names become
// namespace aliases for steps and listeners), applies the setup commands in order, starts the listeners, then runs
// each step (ping or connect, `repeat` connections one after the other, a Service destination resolved when the
// step starts) in virtual time until its client finishes, lets trailing packets (ACKs, FINs) settle for a short
// grace period, and checks the step's expectations against what happened — the client's outcome, the answering
// pod and the source it saw (kube-steps.ts), and the trace of that step (drop reasons, devices crossed; a pod in
// `via` is named by its alias). Action steps change the cluster. Same scenario and seed ⇒ identical trace and
// captures.

import { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import { ping } from '../netns/ping.js';
import type { Probe, ProbeOutcome } from '../netns/probe.js';
import { tcpConnect } from '../netns/tcp.js';
import { UdpClient } from '../netns/udp.js';
import type { Nanos } from '../sim/events.js';
import type { TraceEvent } from '../trace/events.js';
import type { CaptureSink } from '../trace/recorder.js';
import { formatIpv4, type Ipv4 } from '../wire/addr.js';
import { applyCommand } from './apply.js';
import { buildCluster, runClusterAction } from './cluster.js';
// Registers `iptables` and iptables-restore setup items with the parser and the applier (netfilter in scenarios).
import './commands/iptables.js';
import { ScenarioError } from './errors.js';
import {
  type Attempt,
  checkKubeExpectations,
  clientAddress,
  combineAttempts,
  describeKubeAction,
  resolveStep,
} from './kube-steps.js';
import type { ProbeStep, Scenario, Step, StepAction } from './types.js';

/** How long a client waits for an answer (ping -W, connect timeout) in virtual time. */
export const STEP_WAIT_NS: Nanos = 4e9;
/** Time left after a client finishes for trailing packets of the same exchange. */
export const STEP_GRACE_NS: Nanos = 200e6;

export interface RunOptions {
  seed?: number;
  tracing?: boolean;
  sinks?: CaptureSink[];
}

/** What an action step (a change to the cluster) did. */
export interface ActionOutcome {
  result: 'done';
  lines: string[];
}

export type StepOutcome = ProbeOutcome | ActionOutcome;

export interface StepReport {
  index: number;
  step: Step;
  outcome: StepOutcome;
  /** Empty when every expectation held. */
  failures: string[];
  events: TraceEvent[];
}

export interface RunReport {
  scenario: Scenario;
  kernel: Kernel;
  setupEvents: TraceEvent[];
  steps: StepReport[];
  ok: boolean;
}

const enc = new TextEncoder();

/** Cluster names (pods, nodes) of each built kernel: steps and listeners use them as namespace names. */
const aliases = new WeakMap<Kernel, Map<string, NetNs>>();

/** The namespace a step or listener means by `name`: a pod or node of the cluster, or a namespace. */
export function scenarioNs(k: Kernel, name: string): NetNs | undefined {
  return aliases.get(k)?.get(name) ?? k.namespaces.get(name);
}

function nsFor(k: Kernel, name: string, pos: ScenarioError['pos']): NetNs {
  const ns = scenarioNs(k, name);
  if (!ns) throw ScenarioError.at(pos, `unknown namespace '${name}'`);
  return ns;
}

/** Applies setup and listeners; returns the kernel ready for steps. */
export function buildScenario(sc: Scenario, opts: RunOptions = {}): Kernel {
  const k = new Kernel({ seed: opts.seed ?? sc.seed });
  k.tracer.tracing = opts.tracing ?? true;
  for (const s of opts.sinks ?? []) k.tracer.addSink(s);
  if (sc.cluster !== undefined) aliases.set(k, buildCluster(k, sc.cluster));
  for (const cmd of sc.setup) {
    applyCommand(k, cmd);
    k.run(k.now); // anything the command set in motion at this instant
  }
  for (const l of sc.listen) {
    const ns = nsFor(k, l.ns, l.pos);
    try {
      ns.sockets.listen(l.proto, l.port, enc.encode(l.reply), l.address ?? 0);
    } catch (e) {
      throw ScenarioError.at(l.pos, e instanceof Error ? e.message : String(e));
    }
  }
  return k;
}

function runAction(k: Kernel, action: StepAction, pos: ScenarioError['pos']): ActionOutcome {
  const lines = runClusterAction(k, action, pos);
  k.queue.run(k.now + STEP_GRACE_NS);
  return { result: 'done', lines };
}

/** Runs one step of either kind to its end (no expectations checked). */
export function playStep(k: Kernel, step: Step): StepOutcome {
  if (step.kind === 'action') return runAction(k, step.action, step.pos);
  return combineAttempts(runAttempts(k, step));
}

/** Runs a probe step's attempts (one, or `repeat` connections) one after the other. */
export function runAttempts(k: Kernel, step: ProbeStep): Attempt[] {
  const n = step.kind === 'connect' ? (step.repeat ?? 1) : 1;
  const out: Attempt[] = [];
  for (let i = 0; i < n; i++) {
    const resolved = resolveStep(k, step);
    const client = clientAddress(nsFor(k, step.from, step.pos), resolved);
    const probe = startStep(k, resolved);
    runStep(k, probe);
    out.push({ outcome: probe.outcome, client });
  }
  return out;
}

/** Starts a step's client (a Service destination is resolved now). */
export function startStep(k: Kernel, input: ProbeStep): Probe {
  const step = resolveStep(k, input);
  const ns = nsFor(k, step.from, step.pos);
  const src: Ipv4 | null = step.src ?? null;
  if (step.kind === 'ping')
    return ping(ns, step.to, {
      count: step.count,
      size: step.size,
      src,
      waitNs: STEP_WAIT_NS,
      ...(step.ttl !== undefined ? { ttl: step.ttl } : {}),
      ...(step.df !== undefined ? { df: step.df } : {}),
    });
  if (step.proto === 'tcp') return tcpConnect(ns, step.to, step.port, enc.encode(step.payload), src, STEP_WAIT_NS);
  return new UdpClient(ns, step.to, step.port, enc.encode(step.payload), src, STEP_WAIT_NS).start();
}

/** Runs virtual time until the probe is done (bounded by its own timers), then the grace period. */
export function runStep(k: Kernel, probe: Probe): void {
  const deadline = k.now + STEP_WAIT_NS * 4 + 60e9;
  k.queue.runWhile(() => !probe.done, deadline);
  if (!probe.done) probe.finish({ result: 'timeout' });
  k.queue.run(k.now + STEP_GRACE_NS);
}

export function checkExpectations(step: ProbeStep, o: ProbeOutcome, events: readonly TraceEvent[]): string[] {
  return [...checkOutcome(step, o), ...checkTrace(step, events)];
}

/** The expectations about what the client got back. */
export function checkOutcome(step: ProbeStep, o: ProbeOutcome): string[] {
  const e = step.expect;
  const f: string[] = [];
  if (o.result !== e.result) f.push(`expected ${e.result}, got ${o.result}`);
  if (e.replyFrom !== undefined && o.replyFrom !== formatIpv4(e.replyFrom))
    f.push(`expected reply from ${formatIpv4(e.replyFrom)}, got ${o.replyFrom ?? 'no reply'}`);
  if (e.icmp !== undefined && o.icmp !== e.icmp) f.push(`expected ICMP ${e.icmp}, got ${o.icmp ?? 'none'}`);
  if (e.replyTtl !== undefined && o.replyTtl !== e.replyTtl)
    f.push(`expected reply TTL ${e.replyTtl}, got ${o.replyTtl ?? 'none'}`);
  return f;
}

/** The expectations about the step's trace: drop reasons, devices crossed. */
export function checkTrace(step: ProbeStep, events: readonly TraceEvent[], k?: Kernel): string[] {
  const e = step.expect;
  const f: string[] = [];
  if (e.drop !== undefined && !events.some((x) => x.type === 'drop' && x.reason === e.drop)) {
    const seen = [...new Set(events.filter((x) => x.type === 'drop').map((x) => (x.type === 'drop' ? x.reason : '')))];
    f.push(`expected a ${e.drop} drop, saw ${seen.length ? seen.join(', ') : 'no drop'}`);
  }
  for (const hop of e.via ?? []) {
    // A pod is named by its alias; its namespace has containerd's name (cni-…) in the trace.
    const ns = (k && scenarioNs(k, hop.ns)?.name) ?? hop.ns;
    if (!events.some((x) => x.type === 'dev' && x.ns === ns && x.dev === hop.dev))
      f.push(`expected the packets to cross ${hop.ns}:${hop.dev}`);
  }
  return f;
}

export function runScenario(sc: Scenario, opts: RunOptions = {}): RunReport {
  const k = buildScenario(sc, opts);
  const tr = k.tracer;
  const setupEvents = tr.events.slice();
  const steps: StepReport[] = [];
  sc.steps.forEach((step, index) => {
    tr.step = index;
    const from = tr.events.length;
    if (step.kind === 'action') {
      const outcome = runAction(k, step.action, step.pos);
      steps.push({ index, step, outcome, failures: [], events: tr.events.slice(from) });
      return;
    }
    const attempts = runAttempts(k, step);
    const events = tr.events.slice(from);
    const failures = [
      ...checkKubeExpectations(k, step, attempts, (a) => checkOutcome(step, a.outcome)),
      ...checkTrace(step, events, k),
    ];
    steps.push({ index, step, outcome: combineAttempts(attempts), failures, events });
  });
  tr.closeSinks();
  return { scenario: sc, kernel: k, setupEvents, steps, ok: steps.every((s) => s.failures.length === 0) };
}

export function describeStep(step: Step): string {
  if (step.kind === 'action')
    return step.action.kind === 'leave'
      ? `node ${step.action.node} leaves the cluster`
      : describeKubeAction(step.action);
  if (step.kind === 'ping')
    return `ping ${step.from} → ${step.service?.text ?? formatIpv4(step.to)}${step.count > 1 ? ` ×${step.count}` : ''}`;
  const repeat = (step.repeat ?? 1) > 1 ? ` ×${step.repeat}` : '';
  return `${step.proto} ${step.from} → ${step.service?.text ?? `${formatIpv4(step.to)}:${step.port}`}${repeat}`;
}
