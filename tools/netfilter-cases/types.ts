// The shape of a netfilter fidelity case and of the fixture real Linux turns it into. A case is a topology (setup
// lines in the scenario dialect), the rules of each namespace as `iptables-restore` input, listeners and one client
// step; the fixture adds what the kernel did: the step's outcome as kernel-lab judges it, `iptables-save -c` of
// every namespace that had rules (the per-rule packet and byte counters say which rules a packet was tested
// against and matched) and `conntrack -L` of the same namespaces, both taken after the traffic.

import type { LabListener, LabPacket, LabStep, LabStepResult } from '../kernel-lab/types.js';

/**
 * Rules whose individual counters depend on chance (`-m statistic --mode random`): only the sum over the group is
 * compared, i.e. that exactly as many packets matched one of them as in Linux. Rule numbers are 1-based positions
 * in the chain as `iptables-save` prints it.
 */
export interface RandomGroup {
  ns: string;
  table: string;
  chain: string;
  rules: number[];
}

export interface NfCase {
  /** File name stem: lowercase words joined with '-'. */
  name: string;
  description: string;
  /** The features the case exercises, in the words of iptables(8) / iptables-extensions(8). */
  covers: string[];
  setup: string[];
  /** Namespace → `iptables-restore` input, applied after the setup lines and before the listeners start. */
  rules: Record<string, string>;
  listen: LabListener[];
  step: LabStep;
  randomGroups?: RandomGroup[];
  /**
   * Real Linux only: milliseconds to wait after the setup lines before the rules are restored, so that traffic the
   * setup itself causes is over before counting starts (a bridge reports its 224.0.0.106 membership twice within
   * about a second of coming up; the emulator sends no IGMP).
   */
  settleMs?: number;
}

export type NfOutcome = Pick<LabStepResult, 'result' | 'replyFrom' | 'replyTtl' | 'icmp' | 'replyPayload' | 'detail'>;

export interface NfObserved {
  outcome: NfOutcome;
  /** Packets seen in the step's `from` namespace (for reading; not compared). */
  packets: LabPacket[];
  /** Namespace → `iptables-save -c` after the traffic, without its `#` comment lines (they carry dates). */
  iptablesSave: Record<string, string>;
  /** Namespace → `conntrack -L` after the traffic (stdout only). */
  conntrack: Record<string, string>;
}

export interface NfEnvironment {
  kernel: string;
  iptables: string;
  conntrack: string;
  /** Seconds a client waited for an answer (ping -W, connect and UDP timeouts); the emulator must wait as long. */
  waitSeconds: number;
}

export interface NfFixture extends NfCase {
  observed: NfObserved;
  environment: NfEnvironment;
}
