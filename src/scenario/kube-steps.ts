// Steps that meet Kubernetes: a destination written as a Service reference is resolved through the API when the
// step starts (so a step after `apply` or `scale` sees the new cluster IP or node port), and the expectations about
// the answer are checked against what the pod's server wrote back — which pod answered (`servedBy`: a pod name,
// any pod of a Deployment, any pod on a node), which source it saw (`sourceSeenBy`: an address, any address of a
// node, or the client's own), and over repeated attempts whether more than one pod answered (`spread`).
// A connect step with `repeat: N` runs N connections one after the other; each must meet every expectation.

import type { Kernel } from '../netns/kernel.js';
import type { NetNs } from '../netns/netns.js';
import type { ProbeOutcome } from '../netns/probe.js';
import { ipRouteOutput } from '../netns/route.js';
import { formatIpv4, type Ipv4 } from '../wire/addr.js';
import { ScenarioError } from './errors.js';
import { kubeOf } from './kube.js';
import { formatServedBy } from './kube-refs.js';
import { parsePodReply } from './kube-server.js';
import type { ProbeStep, SourceSeen, StepAction } from './types.js';

/** One connection or ping of a step, with the address the client sent from. */
export interface Attempt {
  outcome: ProbeOutcome;
  client: Ipv4 | undefined;
}

/** The step with its Service reference resolved to an address (and port) now; other steps as they are. */
export function resolveStep<S extends ProbeStep>(k: Kernel, step: S): S {
  if (step.service === undefined) return step;
  const kube = kubeOf(k);
  if (!kube) throw ScenarioError.at(step.pos, `${step.service.text}: this scenario runs no Kubernetes`);
  const { to, port } = kube.resolve(step.service, step.pos);
  return step.kind === 'connect' ? { ...step, to, port } : { ...step, to };
}

/** The source address the client's socket will use (ping -I / bind, or the route's preferred source). */
export function clientAddress(ns: NetNs, step: ProbeStep): Ipv4 | undefined {
  if (step.src !== undefined) return step.src;
  const rt = ipRouteOutput(ns, step.to, null);
  return typeof rt === 'string' ? undefined : rt.src;
}

function formatSeen(s: SourceSeen): string {
  if (s.kind === 'ip') return formatIpv4(s.ip);
  if (s.kind === 'node') return `an address of node ${s.node}`;
  return "the client's own address";
}

/** `servedBy` and `sourceSeenBy` for one attempt. */
function checkAnswer(k: Kernel, step: ProbeStep, a: Attempt): string[] {
  const e = step.expect;
  if (e.servedBy === undefined && e.sourceSeenBy === undefined) return [];
  const reply = parsePodReply(a.outcome.replyPayload);
  if (reply === undefined) {
    const got = a.outcome.replyPayload ? `"${a.outcome.replyPayload}"` : 'no answer';
    return [`expected an answer from a pod's server ("<pod> <client ip>:<port>"), got ${got}`];
  }
  const kube = kubeOf(k);
  const f: string[] = [];
  if (e.servedBy !== undefined) {
    const on = kube?.sandbox(reply.pod)?.node;
    const ok = e.servedBy.some((s) => {
      if (s.kind === 'pod') return s.name === reply.pod;
      if (s.kind === 'node') return on === s.node;
      return kube?.deploymentPods(s.namespace, s.name).has(reply.pod) ?? false;
    });
    if (!ok)
      f.push(
        `expected the answer from ${e.servedBy.map(formatServedBy).join(' or ')}, got pod ${reply.pod}${on ? ` on ${on}` : ''}`,
      );
  }
  const seen = e.sourceSeenBy;
  if (seen !== undefined) {
    let ok: boolean;
    if (seen.kind === 'ip') ok = reply.peer === formatIpv4(seen.ip);
    else if (seen.kind === 'node') ok = kube?.nodeAddrs(seen.node).includes(reply.peer) ?? false;
    else ok = a.client !== undefined && reply.peer === formatIpv4(a.client);
    if (!ok)
      f.push(
        `expected pod ${reply.pod} to see the source ${formatSeen(seen)}${seen.kind === 'client' && a.client !== undefined ? ` (${formatIpv4(a.client)})` : ''}, it saw ${reply.peer}:${reply.peerPort}`,
      );
  }
  return f;
}

/**
 * Expectations of a probe step beyond the outcome and the trace: the answering pod and the source it saw, for each
 * attempt (prefixed `attempt i/N` when there are several), and `spread` across them.
 */
export function checkKubeExpectations(
  k: Kernel,
  step: ProbeStep,
  attempts: readonly Attempt[],
  perAttempt: (a: Attempt) => string[],
): string[] {
  const n = attempts.length;
  const f: string[] = [];
  attempts.forEach((a, i) => {
    const prefix = n > 1 ? `attempt ${i + 1}/${n}: ` : '';
    for (const x of [...perAttempt(a), ...checkAnswer(k, step, a)]) f.push(`${prefix}${x}`);
  });
  const spread = step.expect.spread;
  if (spread !== undefined) {
    const pods = [...new Set(attempts.map((a) => parsePodReply(a.outcome.replyPayload)?.pod ?? '(no pod)'))];
    if (spread && pods.length < 2)
      f.push(`expected more than one pod to answer over ${n} attempts, only ${pods[0]} did`);
    if (!spread && pods.length !== 1) f.push(`expected one pod to answer all ${n} attempts, got ${pods.join(', ')}`);
  }
  return f;
}

/** The outcome a repeated step reports: the last attempt's, with one line per attempt. */
export function combineAttempts(attempts: readonly Attempt[]): ProbeOutcome {
  if (attempts.length === 1) {
    const o = attempts[0]!.outcome;
    const reply = parsePodReply(o.replyPayload);
    return reply ? { ...o, lines: [...o.lines, `answer: "${o.replyPayload}"`] } : o;
  }
  const last = attempts[attempts.length - 1]!.outcome;
  const lines = attempts.map((a, i) => {
    const o = a.outcome;
    const what = o.replyPayload !== undefined ? `"${o.replyPayload}"` : (o.lines.at(-1) ?? '');
    return `attempt ${i + 1}: ${o.result}${what ? ` — ${what}` : ''}`;
  });
  return { ...last, lines };
}

/** A Kubernetes step in words, for step titles. */
export function describeKubeAction(a: Exclude<StepAction, { kind: 'leave' }>): string {
  switch (a.kind) {
    case 'apply':
      return 'kubectl apply';
    case 'delete':
      return `kubectl delete ${a.text}`;
    case 'scale':
      return `kubectl scale deployment/${a.deployment} --replicas=${a.replicas}`;
    default:
      return `kubectl ${a.kind} ${a.node}`;
  }
}
