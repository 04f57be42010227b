// The bridge forwarding database (net/bridge/br_fdb.c): MAC → port, learnt from source addresses of received
// frames and aged out after ageing_time of virtual time (300 s by default). Local entries (the bridge's and its
// ports' own MACs, or `bridge fdb add … permanent`) deliver frames up to the bridge device; static entries
// (`static`) forward to their port and never age or move. Entries are keyed by MAC only (no VLANs).

import type { NetDev } from '../netns/netdev.js';
import type { Nanos } from '../sim/events.js';
import type { Mac } from '../wire/addr.js';

export interface FdbEntry {
  mac: Mac;
  /** Port the MAC lives behind; null for the bridge device's own address. */
  port: NetDev | null;
  isLocal: boolean;
  isStatic: boolean;
  /** Added by the user (`bridge fdb add`) rather than learnt or implied by a port. */
  addedByUser: boolean;
  updated: Nanos;
  used: Nanos;
}

export class Fdb {
  readonly entries = new Map<Mac, FdbEntry>();

  get(mac: Mac): FdbEntry | undefined {
    return this.entries.get(mac);
  }

  set(e: FdbEntry): void {
    this.entries.set(e.mac, e);
  }

  delete(mac: Mac): boolean {
    return this.entries.delete(mac);
  }

  expired(e: FdbEntry, now: Nanos, ageing: Nanos): boolean {
    return !e.isLocal && !e.isStatic && now - e.updated > ageing;
  }

  /** Entries in insertion order without the expired ones (br_fdb_cleanup runs lazily here). */
  live(now: Nanos, ageing: Nanos): FdbEntry[] {
    const out: FdbEntry[] = [];
    for (const e of [...this.entries.values()]) {
      if (this.expired(e, now, ageing)) this.entries.delete(e.mac);
      else out.push(e);
    }
    return out;
  }

  /** Forget what was learnt behind a port (port removed or down: br_fdb_delete_by_port). */
  flushPort(port: NetDev, includeLocal: boolean): void {
    for (const e of [...this.entries.values()]) {
      if (e.port !== port) continue;
      if (!includeLocal && (e.isLocal || e.isStatic)) continue;
      this.entries.delete(e.mac);
    }
  }
}
