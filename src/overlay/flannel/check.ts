// flannel's CheckNetworkConfig (pkg/subnet/config.go), IPv4 part: a Network must be given; SubnetLen defaults to
// 24 when the network is a /22 or larger, else to the network's length + 2 (a network smaller than /28 is refused);
// a given SubnetLen must be at most 30 and leave room for four subnets; SubnetMin defaults to the second subnet
// (the first would make an interface address equal the network address), SubnetMax to the last one; both must lie
// in the network and on a SubnetLen boundary. Errors carry flannel's wording and the position of the field.
// flanneld runs these checks with its etcd subnet manager; with the Kubernetes one (kube-subnet-mgr) it does not,
// and podwire uses the filled SubnetLen where kube-controller-manager's --node-cidr-mask-size would be.

import { formatIpv4, type Ipv4, inPrefix } from '../../wire/addr.js';
import type { FlannelNetConf } from './config.js';
import { errorAt } from './go-json.js';

export interface CheckedNetwork {
  subnetLen: number;
  subnetMin: Ipv4;
  subnetMax: Ipv4;
}

/** CheckNetworkConfig: the filled-in SubnetLen, SubnetMin and SubnetMax, or a FlannelConfigError. */
export function checkNetworkConfig(conf: FlannelNetConf): CheckedNetwork {
  const at = (field: string, reason: string) => errorAt(conf.doc, conf.paths[field] ?? [], reason, field);
  const net = conf.network;
  if (net.addr === 0 && net.len === 0)
    throw at('Network', 'please define a correct Network parameter in the flannel config');
  let subnetLen = conf.subnetLen;
  if (subnetLen > 0) {
    if (subnetLen > 30) throw at('SubnetLen', 'SubnetLen must be less than /31');
    if (subnetLen < net.len + 2) throw at('SubnetLen', 'network must be able to accommodate at least four subnets');
  } else if (net.len > 28) throw at('Network', 'network is too small. Minimum useful network prefix is /28');
  else if (net.len <= 22) subnetLen = 24;
  else subnetLen = net.len + 2;

  const size = 2 ** (32 - subnetLen);
  const end = net.addr + 2 ** (32 - net.len);
  let subnetMin = conf.subnetMin;
  if (subnetMin === 0) subnetMin = (net.addr + size) >>> 0;
  else if (!inPrefix(subnetMin, net.addr, net.len))
    throw at('SubnetMin', 'SubnetMin is not in the range of the Network');
  let subnetMax = conf.subnetMax;
  // ip.IP4 arithmetic wraps at 2^32, as Go's uint32 does.
  if (subnetMax === 0) subnetMax = (end - size) >>> 0;
  else if (!inPrefix(subnetMax, net.addr, net.len))
    throw at('SubnetMax', 'SubnetMax is not in the range of the Network');
  const mask = (0xffffffff << (32 - subnetLen)) >>> 0;
  if ((subnetMin & mask) >>> 0 !== subnetMin)
    throw at('SubnetMin', `SubnetMin is not on a SubnetLen boundary: ${formatIpv4(subnetMin)}`);
  if ((subnetMax & mask) >>> 0 !== subnetMax)
    throw at('SubnetMax', `SubnetMax is not on a SubnetLen boundary: ${formatIpv4(subnetMax)}`);
  return { subnetLen, subnetMin, subnetMax };
}
