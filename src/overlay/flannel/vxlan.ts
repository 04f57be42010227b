// flannel's vxlan backend (pkg/backend/vxlan vxlan.go and vxlan_network.go), the kube-flannel default:
// - RegisterNetwork: the device (vxlan-device.ts), then AcquireLease announcing the public IP and backend data
//   {"VNI":…,"VtepMAC":"…"}, then the device gets the lease's network address as /32 and goes up. The network's
//   MTU (subnet.env) is the configured MTU (default: the public interface's) − 50.
// - For every other node's lease, in this order: a permanent ARP entry for the remote lease's network address with
//   its VTEP MAC, an FDB entry sending that MAC to the remote's public IP, and `ip route replace <subnet> via
//   <subnet address> dev flannel.N onlink` — the route last, so the kernel never has to ARP for the gateway. A
//   failed step undoes the earlier ones of that lease. With DirectRouting, a remote whose public IP the node
//   reaches without a gateway gets `ip route replace <subnet> via <public IP>` instead (no encapsulation).
// - A removed lease: ARP entry, FDB entry and route deleted (or the direct route), each attempted.
// Leases of another backend type, or whose backend data does not decode, are skipped as flanneld skips them.
// Limits: IPv4 only; the watcher that re-creates a deleted device is not run.

import { isObject, parseJson } from '../../cni/spec/json.js';
import { ipRouteOutput } from '../../netns/route.js';
import { parseMac } from '../../wire/addr.js';
import { type BackendContext, type BackendNetwork, registerBackend, wrapError } from './backend.js';
import type { VxlanBackendConfig } from './config.js';
import { type Lease, type LeaseEvent, vxlanBackendData } from './lease.js';
import { type FlannelRoute, route } from './netlink.js';
import { ENCAP_OVERHEAD, FlannelVxlanDevice } from './vxlan-device.js';

export const VXLAN_BACKEND_TYPE = 'vxlan';

/** The VTEP MAC of a lease's backend data (vxlanLeaseAttrs), or null when it does not decode. */
export function vtepMacOf(backendData: string): number | null {
  try {
    const v = parseJson(backendData, 'backend-data').value;
    if (!isObject(v)) return null;
    const key = Object.keys(v).find((k) => k.toLowerCase() === 'vtepmac');
    const mac = key === undefined ? undefined : v[key];
    return typeof mac === 'string' ? parseMac(mac) : null;
  } catch {
    return null;
  }
}

/** ip.DirectRouting: the route to `ip` is a single one without a gateway. */
function directRouting(ctx: BackendContext, ip: number): boolean {
  const r = ipRouteOutput(ctx.ns, ip);
  return typeof r !== 'string' && r.route.gw === null;
}

export function newVxlanNetwork(ctx: BackendContext): BackendNetwork {
  const cfg = ctx.config.backend as VxlanBackendConfig;
  let dev: FlannelVxlanDevice;
  try {
    dev = FlannelVxlanDevice.create(ctx.ns, ctx.ext, cfg, ctx.log);
  } catch (e) {
    throw wrapError('failed to create vxlan device', e);
  }
  let lease: Lease;
  try {
    lease = ctx.sm.acquireLease(ctx.nodeName, {
      publicIp: ctx.ext.extAddr,
      backendType: VXLAN_BACKEND_TYPE,
      backendData: vxlanBackendData(cfg.vni, dev.mac),
    });
  } catch (e) {
    throw wrapError('failed to acquire lease', e);
  }
  try {
    dev.configure({ addr: lease.subnet.addr, len: 32 }, ctx.config.network);
  } catch (e) {
    throw wrapError(`failed to configure interface ${dev.name}`, e);
  }
  const mtu = (cfg.mtu ?? ctx.ext.iface.mtu) - ENCAP_OVERHEAD;

  const handle = (ev: LeaseEvent): void => {
    const { lease: l } = ev;
    if (l.attrs.backendType !== VXLAN_BACKEND_TYPE) return;
    const vtep = vtepMacOf(l.attrs.backendData);
    if (vtep === null) return;
    const sn = l.subnet;
    const vxlanRoute: FlannelRoute = { dst: sn, gw: sn.addr, dev: dev.link, onlink: true };
    const directRoute: FlannelRoute = { dst: sn, gw: l.attrs.publicIp };
    const direct = dev.directRouting && directRouting(ctx, l.attrs.publicIp);
    if (ev.type === 'added') {
      if (direct) {
        route(ctx.log, ctx.ns, 'replace', directRoute);
        return;
      }
      if (!dev.addArp(sn.addr, vtep)) return;
      if (!dev.addFdb(vtep, l.attrs.publicIp)) {
        dev.delArp(sn.addr);
        return;
      }
      if (!route(ctx.log, ctx.ns, 'replace', vxlanRoute)) {
        dev.delArp(sn.addr);
        dev.delFdb(vtep, l.attrs.publicIp);
      }
      return;
    }
    if (direct) {
      route(ctx.log, ctx.ns, 'del', directRoute);
      return;
    }
    dev.delArp(sn.addr);
    dev.delFdb(vtep, l.attrs.publicIp);
    route(ctx.log, ctx.ns, 'del', vxlanRoute);
  };

  return {
    lease,
    device: dev.link,
    mtu: () => mtu,
    handleSubnetEvents(batch: LeaseEvent[]): void {
      for (const ev of batch) handle(ev);
    },
  };
}

registerBackend(VXLAN_BACKEND_TYPE, newVxlanNetwork);
