// What a client step observed, in the terms a user asserts on: reachable (an answer came back), refused (TCP RST or
// ICMP port unreachable), unreachable (another ICMP error), or timeout (silence). `lines` reads like the output of
// ping or a client program, for the CLI.

import { formatIpv4, type Ipv4 } from '../wire/addr.js';

export type ProbeResult = 'reachable' | 'unreachable' | 'refused' | 'timeout';

export interface ProbeOutcome {
  result: ProbeResult;
  /** Source of the reply, or of the ICMP error that ended the attempt. */
  replyFrom?: string;
  replyTtl?: number;
  /** Short name of the ICMP error (`time-exceeded`, `host-unreachable`, …). */
  icmp?: string;
  replyPayload?: string;
  lines: string[];
}

export const ICMP_ERROR_NAMES: Record<string, string> = {
  '3/0': 'net-unreachable',
  '3/1': 'host-unreachable',
  '3/2': 'protocol-unreachable',
  '3/3': 'port-unreachable',
  '3/4': 'frag-needed',
  '3/5': 'source-route-failed',
  '3/6': 'net-unknown',
  '3/7': 'host-unknown',
  '3/9': 'net-prohibited',
  '3/8': 'host-isolated',
  '3/10': 'host-prohibited',
  '3/11': 'net-tos-unreachable',
  '3/12': 'host-tos-unreachable',
  '3/13': 'admin-prohibited',
  '3/14': 'host-precedence-violation',
  '3/15': 'precedence-cutoff',
  '11/0': 'time-exceeded',
  '11/1': 'frag-time-exceeded',
};

export function icmpErrorName(type: number, code: number): string {
  return ICMP_ERROR_NAMES[`${type}/${code}`] ?? `icmp-${type}-${code}`;
}

/** iputils ping's wording for an ICMP error. */
export function pingErrorText(type: number, code: number, info: number): string {
  if (type === 11) return code === 0 ? 'Time to live exceeded' : 'Frag reassembly time exceeded';
  switch (code) {
    case 0:
      return 'Destination Net Unreachable';
    case 1:
      return 'Destination Host Unreachable';
    case 2:
      return 'Destination Protocol Unreachable';
    case 3:
      return 'Destination Port Unreachable';
    case 4:
      return `Frag needed and DF set (mtu = ${info})`;
    case 9:
      return 'Destination Net Prohibited';
    case 10:
      return 'Destination Host Prohibited';
    case 13:
      return 'Packet filtered';
    default:
      return `Dest Unreachable, Bad Code: ${code}`;
  }
}

/** strerror(3) for the errors a route lookup gives a connecting client (ip_route_output_key → connect/sendto). */
const ERRNO_TEXT: Record<string, string> = {
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EINVAL: 'Invalid argument',
  EACCES: 'Permission denied',
};

export function strerror(errno: string): string {
  return ERRNO_TEXT[errno] ?? errno;
}

/** What iputils ping prints when connect() on its socket fails (a prohibit route gives EACCES, which ping reads
 * as a broadcast destination or a firewall). */
export function pingConnectErrorText(errno: string): string {
  if (errno === 'EACCES')
    return 'ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules';
  return `ping: connect: ${strerror(errno)}`;
}

export const MAX_LINES = 50;

/** A client in progress; the runner advances virtual time until `done`. */
export class Probe {
  done = false;
  outcome: ProbeOutcome = { result: 'timeout', lines: [] };
  private listeners: (() => void)[] = [];

  finish(o: Partial<ProbeOutcome> & { result: ProbeResult }): void {
    if (this.done) return;
    if (this.elided) this.outcome.lines.push(`… ${this.elided} more lines`);
    this.outcome = { ...this.outcome, ...o, lines: this.outcome.lines };
    this.done = true;
    for (const l of this.listeners) l();
  }

  /** Adds an output line; long runs keep the first MAX_LINES and count the rest. */
  line(s: string | (() => string)): void {
    const lines = this.outcome.lines;
    if (lines.length < MAX_LINES) lines.push(typeof s === 'string' ? s : s());
    else this.elided++;
  }

  private elided = 0;

  /** Lines plus a note of how many were left out. */
  get elidedLines(): number {
    return this.elided;
  }

  onDone(l: () => void): void {
    if (this.done) l();
    else this.listeners.push(l);
  }

  static ip(a: Ipv4): string {
    return formatIpv4(a);
  }
}
