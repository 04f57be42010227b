// The `loopback` plugin (containernetworking/plugins plugins/main/loopback): ADD sets the pod namespace's `lo` up
// (the kernel then gives it 127.0.0.1/8) and reports it — {interfaces: [{name: "lo", mac: "00:00:00:00:00:00",
// sandbox: CNI_NETNS}], ips: [{interface: 0, address: "127.0.0.1/8"}]} — or passes a prevResult through unchanged;
// CNI_IFNAME is ignored, the plugin only ever touches `lo`. DEL sets `lo` down (its address stays, as in Linux);
// CHECK fails when `lo` is down. containerd runs it as its own one-plugin network "cni-loopback" for every pod.
// Differences from the binary: results are written in the shape of the configuration's version (the reference
// labels its 1.0.0-shaped result with an older version, so its 0.3.x/0.4.0 `ips` lack `version`); `::1/128` is
// absent because podwire has no IPv6.

import { linkSetDown, linkSetUp } from '../../netns/link.js';
import { formatCidr, formatIpv4 } from '../../wire/addr.js';
import { registerPlugin } from '../registry.js';
import { netnsPath } from '../runtime.js';
import { CniError, type NetConf, type Plugin, type Result, type RuntimeInputs } from '../types.js';

function add(conf: NetConf, rt: RuntimeInputs): Result {
  const ns = rt.netns;
  linkSetUp(ns.lo);
  const v4 = ns.addrsOf(ns.lo);
  for (const a of v4)
    if (a.addr >>> 24 !== 127)
      throw new CniError(999, `loopback interface found with non-loopback address "${formatIpv4(a.addr)}"`);
  if (conf.prevResult) return { ...conf.prevResult, cniVersion: conf.cniVersion };
  const r: Result = {
    cniVersion: conf.cniVersion,
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: netnsPath(ns) }],
  };
  const first = v4[0];
  if (first) r.ips = [{ interface: 0, address: formatCidr({ addr: first.addr, len: first.len }) }];
  return r;
}

export const loopbackPlugin: Plugin = {
  type: 'loopback',
  add: (conf, rt) => add(conf, rt),
  del: (_conf, rt) => {
    linkSetDown(rt.netns.lo);
  },
  check: (_conf, rt) => {
    if (!rt.netns.lo.adminUp) throw new CniError(999, 'loopback interface is down');
  },
};

registerPlugin(loopbackPlugin);
