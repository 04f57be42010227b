// Input and output of the kernel lab: a scenario reduced to what real Linux needs to replay it (setup command
// lines, listening servers, client steps) and, per step, what Linux did as seen from the client's namespace —
// plus, when asked, the raw frames of extra capture points (a device in any namespace of the scenario).
// Namespace names are the scenario's own; the lab maps them to `pw-lab-<id>-<name>`. The scenario's initial
// namespace is written `root` (or the empty string) in `listen[].ns`, `steps[].from` and `captures[].ns`.

import type { LabNames } from './names.js';

export interface LabSetupLine {
  /** One command line exactly as the scenario has it, e.g. `ip -n a addr add 10.0.0.1/24 dev eth0`. */
  text: string;
}

export interface LabListener {
  ns: string;
  proto: 'tcp' | 'udp';
  port: number;
  /**
   * Sent back for every request (TCP: then the connection is closed). `{peer}` in it stands for the client's
   * address and port as the server's socket saw them (`10.244.1.4:40112`).
   */
  reply: string;
  /** Address to bind; all addresses when absent. */
  address?: string;
}

export interface LabPingStep {
  kind: 'ping';
  from: string;
  to: string;
  /** Echo requests to send; 1 when absent. */
  count?: number;
  /** IP TTL of the requests (`ping -t`); the namespace's net.ipv4.ip_default_ttl when absent. */
  ttl?: number;
  /** ICMP payload bytes (`ping -s`); 56 when absent. */
  size?: number;
  /** Source address (`ping -I`). */
  src?: string;
  /** false: DF clear (`ping -M dont`); absent: ping's default. */
  df?: boolean;
}

export interface LabConnectStep {
  kind: 'connect';
  from: string;
  to: string;
  port: number;
  proto: 'tcp' | 'udp';
  payload: string;
  /** Source address to bind before connecting. */
  src?: string;
}

export type LabStep = LabPingStep | LabConnectStep;

export interface LabInput {
  setup: LabSetupLine[];
  listen: LabListener[];
  steps: LabStep[];
}

/** One IPv4 packet seen on an interface of the step's `from` namespace. */
export interface LabPacket {
  /** `out` for packets the namespace sent (SLL2 packet type OUTGOING), `in` otherwise (loopback shows only `in`). */
  dir: 'in' | 'out';
  /** Interface name in the `from` namespace (`lo`, `eth0`, …). */
  dev: string;
  /** Milliseconds since the step's client was started. */
  tMs: number;
  src: string;
  dst: string;
  ttl: number;
  /** IPv4 total length. */
  len: number;
  /** tcpdump-like one-line description of the transport header. */
  summary: string;
}

export type LabIcmp =
  | 'net-unreachable'
  | 'host-unreachable'
  | 'port-unreachable'
  | 'time-exceeded'
  | 'frag-needed'
  | 'admin-prohibited'
  | 'proto-unreachable'
  | string;

export interface LabStepResult {
  result: 'reachable' | 'unreachable' | 'refused' | 'timeout';
  /** Source IP of the reply, or of the ICMP error (or TCP reset) that ended the attempt. */
  replyFrom?: string;
  /** IP TTL of that reply as received in `from`. */
  replyTtl?: number;
  icmp?: LabIcmp;
  /** For connect: what the server answered. */
  replyPayload?: string;
  /** What the client reported in its own words: ping's lines, or the socket error name (`ECONNREFUSED`). */
  detail: string;
  packets: LabPacket[];
  /** The frames of each of `LabOptions.captures` during the step, in that order; absent when none were asked. */
  extra?: LabExtraCapture[];
}

/** A device to capture on during every step, besides the step's own namespace. */
export interface LabCapturePoint {
  /** The scenario's name of the namespace (`root` or '' for the initial one). */
  ns: string;
  dev: string;
}

/** One frame as the device carried it: Ethernet header first, both directions, nothing filtered out. */
export interface LabFrame {
  /** Milliseconds since the step's client was started. */
  tMs: number;
  bytes: Uint8Array;
}

export interface LabExtraCapture {
  ns: string;
  dev: string;
  frames: LabFrame[];
}

export interface LabOptions {
  /** Bound on the whole run, setup to cleanup included. Default 60 s. */
  timeoutMs?: number;
  /**
   * How long a client waits for an answer, in seconds (ping `-W`, connect timeout, UDP reply wait). Default 4:
   * an on-link address nobody owns fails ARP only after 3 probes 1 s apart plus 1 s, so with less the client
   * gives up before Linux reports "Destination Host Unreachable" / EHOSTUNREACH.
   */
  waitSeconds?: number;
  /**
   * Bring `lo` up in the lab's stand-in for the initial namespace, as it is on a booted host. Default true.
   * Namespaces the scenario adds keep the kernel default (lo down).
   */
  rootLoopbackUp?: boolean;
  /**
   * Builds namespaces before the setup lines run, for what a setup line cannot express (e.g. a cluster whose
   * pods are attached by real CNI plugin binaries). Runs after the stand-in for the initial namespace exists.
   * Every namespace it creates must be named through `ctx.names` (`names.map(x)`), so the run's cleanup removes
   * it; files go under `ctx.dir`, deleted with the run; programs it starts must honour `ctx.signal`.
   */
  prepare?: (ctx: LabPrepareContext) => Promise<void>;
  /**
   * Devices captured during every step alongside the step's own namespace (`tcpdump -i <dev>`, link type
   * Ethernet, no filter), returned per step in `LabStepResult.extra`. Each must exist once setup is done.
   */
  captures?: LabCapturePoint[];
}

export interface LabPrepareContext {
  names: LabNames;
  /** The run's temporary directory. */
  dir: string;
  /** Aborted when the run exceeds its time bound. */
  signal: AbortSignal;
}

export type LabAvailability = { ok: true } | { ok: false; why: string };
