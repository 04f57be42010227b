// flannel's host-gw backend (pkg/backend/hostgw with backend.RouteNetwork): no encapsulation, every other node's
// pod subnet is routed through that node's public address on the public interface
// (`ip route add 10.244.2.0/24 via 192.168.50.12 dev eth0`), which only works when the nodes share an L2 segment.
// The lease announces the public IP and backend-data `null`; the MTU is the public interface's. On an added lease,
// an existing main-table route to the same subnet that differs (gateway or device) is deleted first and an equal
// one is kept; a removed lease deletes the route. A public IP other than the interface's is refused (NAT).
// Limits: the 10 s route check that re-adds deleted routes is not run.

import { type Route, RT_TABLE_MAIN } from '../../netns/fib.js';
import { routeModify } from '../../netns/route.js';
import { formatCidr, formatIpv4 } from '../../wire/addr.js';
import { type BackendContext, type BackendNetwork, registerBackend, wrapError } from './backend.js';
import type { Lease, LeaseEvent } from './lease.js';
import { type FlannelRoute, route } from './netlink.js';

export const HOSTGW_BACKEND_TYPE = 'host-gw';

/** `ip route del …` of a route found in the table (routeAdd's clean-up of a differing route). */
function delExisting(ctx: BackendContext, r: Route): void {
  const text = `${formatCidr({ addr: r.dst, len: r.len })}${r.gw !== null ? ` via ${formatIpv4(r.gw)}` : ''}${r.dev ? ` dev ${r.dev.name}` : ''}`;
  ctx.log.attempt(`ip route del ${text}`, () =>
    routeModify(ctx.ns, {
      op: 'del',
      type: 'unicast',
      dst: r.dst,
      len: r.len,
      gw: r.gw,
      dev: r.dev,
      metric: null,
      prefsrc: null,
      table: RT_TABLE_MAIN,
      proto: null,
      scope: null,
      onlink: false,
      mtu: null,
      advmss: null,
    }),
  );
}

export function newHostGwNetwork(ctx: BackendContext): BackendNetwork {
  const { ext } = ctx;
  if (ext.extAddr !== ext.ifaceAddr)
    throw new Error(
      "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend",
    );
  let lease: Lease;
  try {
    lease = ctx.sm.acquireLease(ctx.nodeName, {
      publicIp: ext.extAddr,
      backendType: HOSTGW_BACKEND_TYPE,
      backendData: 'null',
    });
  } catch (e) {
    throw wrapError('failed to acquire lease', e);
  }
  const mtu = ext.iface.mtu;
  const routeOf = (l: Lease): FlannelRoute => ({ dst: l.subnet, gw: l.attrs.publicIp, dev: ext.iface });

  const add = (r: FlannelRoute): void => {
    const same = ctx.ns.fib.find(RT_TABLE_MAIN, r.dst.addr, r.dst.len);
    const first = same[0];
    if (first && !(first.gw === r.gw && first.dev === r.dev)) delExisting(ctx, first);
    const now = ctx.ns.fib.find(RT_TABLE_MAIN, r.dst.addr, r.dst.len)[0];
    if (now && now.gw === r.gw && now.dev === r.dev) return;
    route(ctx.log, ctx.ns, 'add', r);
  };

  return {
    lease,
    mtu: () => mtu,
    handleSubnetEvents(batch: LeaseEvent[]): void {
      for (const ev of batch) {
        if (ev.lease.attrs.backendType !== HOSTGW_BACKEND_TYPE) continue;
        const r = routeOf(ev.lease);
        if (ev.type === 'added') add(r);
        else route(ctx.log, ctx.ns, 'del', r);
      }
    },
  };
}

registerBackend(HOSTGW_BACKEND_TYPE, newHostGwNetwork);
