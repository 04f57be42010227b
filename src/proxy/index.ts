// kube-proxy in iptables mode as a library: a Proxier fed Service/EndpointSlice events writes, into one node's
// network namespace, the rules upstream kube-proxy (v1.35/v1.36) writes — see UPSTREAM.md beside this file for what
// is matched and what differs.

export {
  endpointChain,
  hash16,
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_CANARY,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  type ServiceChains,
  serviceChains,
} from './chains.js';
export {
  EndpointsChangeTracker,
  type EndpointsMap,
  ServiceChangeTracker,
  type ServicePortMap,
} from './changetracker.js';
export { type CleanupResult, cleanStaleEntries } from './conntrack.js';
export { type EndpointInfo, endpointsFromSlices } from './endpoint.js';
export { JUMP_RULES, type JumpRule } from './jumps.js';
export type * from './model.js';
export { type LocalDetectorSpec, NodePortAddresses } from './netconfig.js';
export { FULL_SYNC_PERIOD_NS, formatMark, Proxier, type ProxierOptions, type SyncResult } from './proxier.js';
export { computeProbability, generateRuleset, type RulesetConfig, type SyncInput, type SyncOutput } from './ruleset.js';
export { type ServicePortInfo, servicePortKey, servicePorts, skipService } from './serviceport.js';
export { type Categorized, categorizeEndpoints } from './topology.js';
