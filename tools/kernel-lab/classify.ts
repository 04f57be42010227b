// Judges a step from what the client reported and what the capture in its namespace shows. The client decides
// the outcome (a reply, an error, silence); the capture supplies what the client cannot see: the TTL of the
// reply or error as it arrived, the exact ICMP type/code, and whether a refused TCP connection was a RST or an
// ICMP port unreachable (both surface as ECONNREFUSED). An ICMP error is matched to the step by the packet it
// quotes (protocol, destination, destination port), a reply by its source port.

import type { CapturedPacket } from './capture.js';
import { type ConnectOutput, icmpFromPingText, type PingOutput } from './clients.js';
import { type DecodedIp, icmpName, isIcmpError, summarize } from './packet.js';
import type { LabConnectStep, LabPacket, LabPingStep, LabStepResult } from './types.js';

export function toLabPackets(pkts: CapturedPacket[], startUs: number): LabPacket[] {
  return pkts.map((p) => ({
    dir: p.dir,
    dev: p.dev,
    tMs: Math.round((p.tsUs - startUs) / 100) / 10,
    src: p.ip.src,
    dst: p.ip.dst,
    ttl: p.ip.ttl,
    len: p.ip.len,
    summary: summarize(p.ip),
  }));
}

/** First received ICMP error whose quoted packet satisfies `quotes`. */
function findIcmpError(pkts: CapturedPacket[], quotes: (inner: DecodedIp) => boolean): CapturedPacket | undefined {
  return pkts.find((p) => {
    const icmp = p.ip.icmp;
    return p.dir === 'in' && icmp && isIcmpError(icmp.type) && icmp.inner !== undefined && quotes(icmp.inner);
  });
}

function fromError(err: CapturedPacket): Pick<LabStepResult, 'replyFrom' | 'replyTtl' | 'icmp'> {
  return { replyFrom: err.ip.src, replyTtl: err.ip.ttl, icmp: icmpName(err.ip.icmp!.type, err.ip.icmp!.code) };
}

export function classifyPing(
  step: LabPingStep,
  out: PingOutput,
  exitCode: number | null,
  pkts: CapturedPacket[],
  startUs: number,
): LabStepResult {
  const packets = toLabPackets(pkts, startUs);
  const first = out.replies[0];
  if (first) {
    const lines = out.replies.map((r) => `reply from ${r.from} seq ${r.seq} ttl ${r.ttl}`);
    return { result: 'reachable', replyFrom: first.from, replyTtl: first.ttl, detail: lines.join('; '), packets };
  }
  const err = out.errors[0];
  if (err) {
    const captured = findIcmpError(
      pkts,
      (inner) => inner.icmp?.type === 8 && inner.dst === step.to && (inner.src === step.src || !step.src),
    );
    const r: LabStepResult = {
      result: 'unreachable',
      replyFrom: err.from,
      detail: out.errors.map((e) => `From ${e.from} icmp_seq=${e.seq} ${e.text}`).join('; '),
      packets,
    };
    if (captured && captured.ip.src === err.from) Object.assign(r, fromError(captured));
    else {
      const icmp = icmpFromPingText(err.text);
      if (icmp) r.icmp = icmp;
    }
    return r;
  }
  if (out.failures.length > 0) {
    // ping could not send at all (no route: "connect: Network is unreachable"; a local REJECT: "sendmsg: …").
    if (exitCode === 2 && out.failures.some((f) => /usage|invalid|unknown|not known|bad /i.test(f))) {
      throw new Error(`kernel-lab: ping ${step.to} from '${step.from}' failed: ${out.failures.join('; ')}`);
    }
    return { result: 'unreachable', detail: out.failures.join('; '), packets };
  }
  return { result: 'timeout', detail: 'no reply', packets };
}

export function classifyConnect(
  step: LabConnectStep,
  out: ConnectOutput,
  pkts: CapturedPacket[],
  startUs: number,
): LabStepResult {
  const packets = toLabPackets(pkts, startUs);
  const proto = step.proto;
  const isOurs = (ip: DecodedIp) => (proto === 'tcp' ? ip.tcp?.dport : ip.udp?.dport) === step.port;
  const quotesUs = (inner: DecodedIp) => isOurs(inner) && inner.dst === step.to;
  const quotesPort = (inner: DecodedIp) => isOurs(inner);
  const icmpErr = findIcmpError(pkts, quotesUs) ?? findIcmpError(pkts, quotesPort);
  const fromServer = (p: CapturedPacket) =>
    p.dir === 'in' && (proto === 'tcp' ? p.ip.tcp?.sport : p.ip.udp?.sport) === step.port;

  if (out.outcome === 'connected') {
    const r: LabStepResult = { result: 'reachable', replyPayload: out.reply ?? '', detail: 'connected', packets };
    if (out.note) r.detail += ` (${out.note})`;
    const first =
      proto === 'tcp'
        ? pkts.find((p) => fromServer(p) && p.ip.tcp!.flags.includes('S'))
        : pkts.find((p) => fromServer(p) && (!out.peer || p.ip.src === out.peer));
    if (first) {
      r.replyFrom = first.ip.src;
      r.replyTtl = first.ip.ttl;
    } else if (out.peer) r.replyFrom = out.peer;
    return r;
  }
  if (out.outcome === 'timeout') {
    const r: LabStepResult = { result: 'timeout', detail: 'timeout', packets };
    if (icmpErr) Object.assign(r, fromError(icmpErr));
    return r;
  }
  const errno = out.errno ?? 'unknown error';
  const r: LabStepResult = { result: errno === 'ECONNREFUSED' ? 'refused' : 'unreachable', detail: errno, packets };
  if (icmpErr) return Object.assign(r, fromError(icmpErr));
  if (proto === 'tcp') {
    const rst = pkts.find((p) => fromServer(p) && p.ip.tcp!.flags.includes('R'));
    if (rst) return Object.assign(r, { replyFrom: rst.ip.src, replyTtl: rst.ip.ttl });
  }
  const ee = out.ee;
  if (ee && ee.origin === 2) {
    r.icmp = icmpName(ee.type, ee.code);
    if (ee.offender) r.replyFrom = ee.offender;
  }
  return r;
}
