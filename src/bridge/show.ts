// `bridge fdb show` for a namespace: per device in ifindex order, the bridge's entries through that device
// (`master br0`, newest first as the kernel's fdb list is) and the device's own multicast addresses (`self
// permanent`). Only IPv4 memberships are modelled: every up Ethernet-like device has joined 224.0.0.1
// (01:00:5e:00:00:01) and an up bridge also 224.0.0.106 (01:00:5e:00:00:6a) for multicast router discovery;
// Linux additionally lists IPv6 groups (33:33:…), which podwire does not model.

import type { NetNs } from '../netns/netns.js';
import { formatMac } from '../wire/addr.js';
import { Bridge } from './bridge.js';
import type { FdbEntry } from './fdb.js';

function state(e: FdbEntry): string {
  if (e.isLocal) return 'permanent';
  if (e.isStatic) return 'static';
  return '';
}

export function showFdb(ns: NetNs, dev?: string): string {
  const lines: string[] = [];
  const now = ns.kernel.now;
  const bridges = ns.devices().filter((d): d is Bridge => d instanceof Bridge);
  const live = new Map(bridges.map((b) => [b, b.fdb.live(now, b.ageingTime).reverse()]));
  for (const d of ns.devices()) {
    if (d.kind === 'loopback') continue;
    if (dev !== undefined && d.name !== dev) continue;
    const self: string[] = [];
    if (d.adminUp) {
      if (d instanceof Bridge) self.push('01:00:5e:00:00:6a');
      self.push('01:00:5e:00:00:01');
    }
    if (d instanceof Bridge) {
      for (const m of self) lines.push(`${m} dev ${d.name} self permanent`);
      // Entries with no port: the bridge's own address (listed by Linux too, e.g. when set explicitly or when no
      // port shares it) and `bridge fdb add … dev BR self`.
      for (const e of live.get(d)!)
        if (e.port === null) lines.push(`${formatMac(e.mac)} dev ${d.name} master ${d.name} ${state(e)}`);
      continue;
    }
    if (d.master instanceof Bridge) {
      for (const e of live.get(d.master)!)
        if (e.port === d) lines.push(`${formatMac(e.mac)} dev ${d.name} master ${d.master.name} ${state(e)}`);
    }
    for (const m of self) lines.push(`${m} dev ${d.name} self permanent`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
