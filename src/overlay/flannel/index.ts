// flannel as podwire runs it: net-conf.json, the Kubernetes subnet manager and its leases, flanneld per node with
// the vxlan and host-gw backends, subnet.env and flannel's iptables rules. See network.ts for the cluster-wide
// entry point.

export { type CheckedNetwork, checkNetworkConfig } from './check.js';
export {
  type BackendConfig,
  DEFAULT_VNI,
  type FlannelNetConf,
  type HostGwBackendConfig,
  KERNEL_VXLAN_PORT,
  KUBE_FLANNEL_NET_CONF,
  NET_CONF_PATH,
  parseNetConf,
  type VxlanBackendConfig,
} from './config.js';
export { Flanneld, type FlanneldOptions, type FlanneldState } from './flanneld.js';
export { FlannelConfigError } from './go-json.js';
export { HOSTGW_BACKEND_TYPE } from './hostgw.js';
export { forwardRules, IptablesManager, type IptRule, KUBE_PROXY_MARK, masqRules } from './iptables.js';
export {
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  formatLease,
  type Lease,
  type LeaseAttrs,
  type LeaseEvent,
  leaseAnnotations,
  vxlanBackendData,
} from './lease.js';
export { FlannelNetwork, type FlannelNetworkOptions, type FlannelNodeSpec } from './network.js';
export { type FlannelOp, OpLog } from './oplog.js';
export { CidrSet, ERR_NO_CIDRS_REMAINING } from './range-allocator.js';
export { formatSubnetEnv, SUBNET_FILE, type SubnetEnv, writeSubnetFile } from './subnet-env.js';
export { FlannelError, type KubeNode, KubeSubnetManager } from './subnet-manager.js';
export { VXLAN_BACKEND_TYPE, vtepMacOf } from './vxlan.js';
export { ENCAP_OVERHEAD } from './vxlan-device.js';
