// `bridge fdb add|append|replace|del` (rtnl_fdb_add → br_fdb_add): entries on a bridge's FDB through a port with
// `master`, or on the bridge device itself with `self`. bridge(8) defaults to `self` and `permanent`; a permanent
// entry is local (frames to it go up to the bridge), a static one forwards to its port and never ages.
// Limits: `self` on a port device (its own unicast address list) and `dst`/`vni` (VXLAN devices) are refused here.

import { NetlinkError } from '../netns/errors.js';
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

function target(ns: NetNs, c: FdbCmd): { br: Bridge; port: ReturnType<NetNs['dev']> | null } {
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

export function brFdbAdd(ns: NetNs, c: FdbCmd): void {
  const { br, port } = target(ns, c);
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

export function brFdbDel(ns: NetNs, c: FdbCmd): void {
  const { br, port } = target(ns, c);
  const e = br.fdb.get(c.mac);
  if (!e || e.port !== port)
    throw new NetlinkError(`RTNETLINK answers: No such file or directory (${formatMac(c.mac)})`, 'ENOENT');
  br.fdb.delete(c.mac);
}
