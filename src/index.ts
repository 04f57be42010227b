// podwire as a library: build an emulated topology from the commands people already use (or from a scenario
// file), send pings and connections in virtual time, and inspect the outcome, the trace and the captures.
//
//   const k = topology(['ip netns add a', 'ip netns add b', …]);
//   const p = ping(k.netns('a'), parseIpv4('10.0.0.2')!);
//   runUntilDone(k, p);   // p.outcome.result === 'reachable'

import type { Kernel } from './netns/kernel.js';
import { Kernel as KernelClass } from './netns/kernel.js';
import type { Probe } from './netns/probe.js';
import { applyCommand } from './scenario/apply.js';
import { parseCommands } from './scenario/commands/parse.js';
import { textSource } from './scenario/commands/tokenize.js';
import { runStep } from './scenario/runner.js';

export { Bridge } from './bridge/bridge.js';
export { showFdb } from './bridge/show.js';
export { NetlinkError } from './netns/errors.js';
export { Kernel, ROOT_NS } from './netns/kernel.js';
export { NetDev } from './netns/netdev.js';
export { NetNs } from './netns/netns.js';
export { type PingOptions, ping } from './netns/ping.js';
export { Probe, type ProbeOutcome, type ProbeResult } from './netns/probe.js';
export { ipLinkShowDetail, showAddrsBrief, showLinksBrief, showNeigh, showRoutes } from './netns/show.js';
export { tcpConnect } from './netns/tcp.js';
export { UdpClient } from './netns/udp.js';
export { createVxlan, VxlanDev, type VxlanSpec } from './netns/vxlan.js';
export {
  Flanneld,
  FlannelNetwork,
  type FlannelNetworkOptions,
  type FlannelNodeSpec,
  type Lease,
  parseNetConf,
} from './overlay/flannel/index.js';
export { flannelOf } from './scenario/cluster.js';
export { ScenarioError } from './scenario/errors.js';
export { KubeRuntime, kubeOf, type Sandbox } from './scenario/kube.js';
export { loadScenario, parseScenario } from './scenario/loader.js';
export {
  buildScenario,
  playStep,
  type RunReport,
  runAttempts,
  runScenario,
  runStep,
  type StepReport,
  scenarioNs,
  startStep,
} from './scenario/runner.js';
export type { Command, Scenario, Step } from './scenario/types.js';
export { EventQueue, type Nanos } from './sim/events.js';
export { Rng } from './sim/rng.js';
export { renderSequenceSvg } from './trace/diagram/sequence.js';
export { renderTopologySvg } from './trace/diagram/topology.js';
export type { DropReason, TraceEvent, TraceKinds } from './trace/events.js';
export { PcapPerDeviceSink, PcapWriter } from './trace/pcap.js';
export { PcapngWriter } from './trace/pcapng.js';
export { svgToPng } from './trace/png.js';
export { type CaptureSink, Tracer } from './trace/recorder.js';
export { type ByteSink, FileByteSink, fileSinkFactory, MemoryByteSink } from './trace/sink.js';
export { registerTextFormatter, renderJsonLines, renderTimeline } from './trace/text.js';
export * from './wire/addr.js';

/**
 * A kernel set up by running `lines` (ip/bridge/sysctl commands, one per line or array item) in order.
 * Errors are ScenarioErrors positioned in `<commands>` line:col.
 */
export function topology(lines: string | readonly string[], opts: { seed?: number; tracing?: boolean } = {}): Kernel {
  const text = typeof lines === 'string' ? lines : lines.join('\n');
  const k = new KernelClass({ seed: opts.seed ?? 1 });
  k.tracer.tracing = opts.tracing ?? true;
  for (const cmd of parseCommands(textSource(text, '<commands>', 1, 1))) {
    applyCommand(k, cmd);
    k.run(k.now);
  }
  return k;
}

/** Advances virtual time until `probe` has its outcome (then lets trailing packets settle). */
export function runUntilDone(k: Kernel, probe: Probe): Probe {
  runStep(k, probe);
  return probe;
}
export { Node, type Pod } from './cni/node.js';
export {
  addNetworkList,
  checkNetworkList,
  delNetworkList,
  type RuntimeConf,
  registerPlugin,
} from './cni/runtime.js';
export { CniConfError, parseNetworkConfig, printResult, validateResult } from './cni/spec/index.js';
export { cniTool } from './cni/tool.js';
export { CniError, type NetConf, type NetConfList, type Result as CniResult } from './cni/types.js';
export {
  conntrackDelete,
  conntrackFlush,
  conntrackList,
  enableNetfilter,
  IptablesError,
  iptables,
  iptablesRestore,
  iptablesSave,
  netfilterOf,
} from './iptables/index.js';
