// `bridge fdb add|append|replace|del` (rtnl_fdb_add / rtnl_fdb_del): with `master` (or neither flag) on a bridge
// port the request goes to the bridge's FDB (br_fdb_add); with `self` it goes to the device itself — a bridge's own
// FDB, or the ndo_fdb_add/ndo_fdb_del of a device that keeps its own (a VXLAN device: MAC → remote VTEPs, `dst`
// and `vni` apply there). bridge(8) defaults to `self` and `permanent`; a permanent bridge entry is local (frames to
// it go up to the bridge), a static one forwards to its port and never ages. `master` on a device that is no bridge
// port is refused with EOPNOTSUPP, as rtnl_fdb_add leaves it.
// Limits: `self` on a plain port device (its own unicast address list) and `dst`/`vni` on anything but a device
// with its own FDB are refused here.

import { NetlinkError } from '../netns/errors.js';
import type { NetDev } from '../netns/netdev.js';
import type { NetNs } from '../netns/netns.js';
import { formatMac, type Mac } from '../wire/addr.js';
import { Bridge } from './bridge.js';

interface FdbCmd {
  mac: Mac;
  dev: string;
  self: boolean;
  master: boolean;
  state?: 'permanent' | 'static' | 'dynamic';
  op?: 'add' | 'append' | 'replace';
  dst?: number;
  vni?: number;
}

const EOPNOTSUPP = () => new NetlinkError('RTNETLINK answers: Operation not supported', 'EOPNOTSUPP');

function target(ns: NetNs, c: FdbCmd): { br: Bridge; port: NetDev | null } {
  const dev = ns.dev(c.dev);
  if (c.dst !== undefined || c.vni !== undefined)
    throw new NetlinkError(`dst/vni apply to VXLAN devices; ${c.dev} is a ${dev.kind}`, 'EOPNOTSUPP');
  if (dev instanceof Bridge) return { br: dev, port: null };
  if (c.master && dev.master instanceof Bridge) return { br: dev.master, port: dev };
  if (!c.master)
    throw new NetlinkError(
      `RTNETLINK answers: Operation not supported (add 'master' to program the bridge FDB through port ${c.dev})`,
      'EOPNOTSUPP',
    );
  throw new NetlinkError(`Error: ${c.dev} is not a bridge port.`, 'EOPNOTSUPP');
}

/** A device with its own FDB (ndo_fdb_add): the master part goes to its bridge, the self part to the device. */
function ownFdbDevice(ns: NetNs, c: FdbCmd): NetDev | null {
  const dev = ns.dev(c.dev);
  if (!dev.ndoFdbAdd || dev instanceof Bridge) return null;
  if (c.master && !(dev.master instanceof Bridge)) throw EOPNOTSUPP();
  return dev;
}

function brAdd(ns: NetNs, br: Bridge, port: NetDev | null, c: FdbCmd): void {
  const existing = br.fdb.get(c.mac);
  if (existing && c.op === 'add' && (existing.addedByUser || existing.isLocal))
    throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
  const now = ns.kernel.now;
  const state = c.state ?? 'permanent';
  br.fdb.set({
    mac: c.mac,
    port,
    isLocal: state === 'permanent',
    isStatic: state !== 'dynamic',
    addedByUser: true,
    updated: now,
    used: now,
  });
}

function brDel(br: Bridge, port: NetDev | null, c: FdbCmd): void {
  const e = br.fdb.get(c.mac);
  if (!e || e.port !== port)
    throw new NetlinkError(`RTNETLINK answers: No such file or directory (${formatMac(c.mac)})`, 'ENOENT');
  br.fdb.delete(c.mac);
}

export function brFdbAdd(ns: NetNs, c: FdbCmd): void {
  const own = ownFdbDevice(ns, c);
  if (own) {
    // br_fdb_add ignores NDA_DST and NDA_VNI.
    if (c.master) brAdd(ns, own.master as Bridge, own, c);
    if (c.self)
      own.ndoFdbAdd!({
        op: c.op ?? 'add',
        mac: c.mac,
        state: c.state ?? 'permanent',
        ...(c.dst !== undefined ? { dst: c.dst } : {}),
        ...(c.vni !== undefined ? { vni: c.vni } : {}),
      });
    return;
  }
  const { br, port } = target(ns, c);
  brAdd(ns, br, port, c);
}

export function brFdbDel(ns: NetNs, c: FdbCmd): void {
  const own = ownFdbDevice(ns, c);
  if (own) {
    if (c.master) brDel(own.master as Bridge, own, c);
    if (c.self && own.ndoFdbDel)
      own.ndoFdbDel({
        mac: c.mac,
        ...(c.dst !== undefined ? { dst: c.dst } : {}),
        ...(c.vni !== undefined ? { vni: c.vni } : {}),
      });
    return;
  }
  const { br, port } = target(ns, c);
  brDel(br, port, c);
}
