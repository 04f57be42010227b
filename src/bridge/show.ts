// `bridge fdb show [dev DEV]` for a namespace: per device in ifindex order, the bridge's entries through that device
// (`master br0`, newest first as the kernel's fdb list is) and the device's own entries (`self`): for a device with
// its own FDB (ndo_fdb_dump: a VXLAN device's `dst` entries) those, for any other its multicast addresses
// (`self permanent`). With `dev DEV` only that device's lines are printed and bridge(8) leaves out `dev DEV`.
// Only IPv4 memberships are modelled: every up Ethernet-like device has joined 224.0.0.1 (01:00:5e:00:00:01) and
// an up bridge also 224.0.0.106 (01:00:5e:00:00:6a) for multicast router discovery; Linux additionally lists IPv6
// groups (33:33:…), which podwire does not model.

import type { FdbEntryState, NdoFdbDumpEntry } from '../netns/netdev.js';
import type { NetNs } from '../netns/netns.js';
import { formatIpv4, formatMac } from '../wire/addr.js';
import { Bridge } from './bridge.js';
import type { FdbEntry } from './fdb.js';

function state(e: FdbEntry): string {
  if (e.isLocal) return 'permanent';
  if (e.isStatic) return 'static';
  return '';
}

/** iproute2's state_n2a: NUD_PERMANENT, NUD_NOARP (static), NUD_REACHABLE (nothing). */
function ndmState(s: FdbEntryState): string {
  return s === 'permanent' ? 'permanent' : s === 'static' ? 'static' : '';
}

function ownLine(e: NdoFdbDumpEntry, devPart: string): string {
  const port = e.port !== undefined ? ` port ${e.port}` : '';
  const vni = e.vni !== undefined ? ` vni ${e.vni}` : '';
  return `${formatMac(e.mac)} ${devPart}dst ${formatIpv4(e.dst)}${port}${vni} self ${ndmState(e.state)}`;
}

export function showFdb(ns: NetNs, dev?: string): string {
  const lines: string[] = [];
  const now = ns.kernel.now;
  const bridges = ns.devices().filter((d): d is Bridge => d instanceof Bridge);
  const live = new Map(bridges.map((b) => [b, b.fdb.live(now, b.ageingTime).reverse()]));
  for (const d of ns.devices()) {
    if (d.kind === 'loopback') continue;
    if (dev !== undefined && d.name !== dev) continue;
    const devPart = dev === undefined ? `dev ${d.name} ` : '';
    const self: string[] = [];
    if (d.adminUp && !d.ndoFdbDump) {
      if (d instanceof Bridge) self.push('01:00:5e:00:00:6a');
      self.push('01:00:5e:00:00:01');
    }
    if (d instanceof Bridge) {
      for (const m of self) lines.push(`${m} ${devPart}self permanent`);
      // Entries with no port: the bridge's own address (listed by Linux too, e.g. when set explicitly or when no
      // port shares it) and `bridge fdb add … dev BR self`.
      for (const e of live.get(d)!)
        if (e.port === null) lines.push(`${formatMac(e.mac)} ${devPart}master ${d.name} ${state(e)}`);
      continue;
    }
    if (d.master instanceof Bridge) {
      for (const e of live.get(d.master)!)
        if (e.port === d) lines.push(`${formatMac(e.mac)} ${devPart}master ${d.master.name} ${state(e)}`);
    }
    if (d.ndoFdbDump) for (const e of d.ndoFdbDump()) lines.push(ownLine(e, devPart));
    for (const m of self) lines.push(`${m} ${devPart}self permanent`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
