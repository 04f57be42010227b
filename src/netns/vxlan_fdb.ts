// A VXLAN device's own forwarding database (drivers/net/vxlan/vxlan_core.c, vxlan_fdb_update / __vxlan_fdb_delete /
// vxlan_snoop): inner MAC → remote VTEPs. `bridge fdb add` creates (EEXIST when the MAC is known), `replace` creates
// or overwrites the first remote of a unicast entry (never of the all-zeros or a multicast entry), `append` adds a
// remote only to the all-zeros or a multicast entry (several remotes: a frame is flooded to each), and on a unicast
// entry only updates its state. Deleting with a `dst` removes that remote (a miss is silently accepted, as the
// kernel does), without one the whole entry. Learnt and `dynamic` entries age out `ageing` seconds after their last
// update (looked at lazily here; the kernel's cleanup timer runs every 10 s); permanent and static ones never do.
// Entries are listed newest first, as the kernel's fdb list is. Limits: no nexthop groups, `via`, `src_vni` or
// address limits (maxaddress); entries are keyed by MAC only (no VNI filtering).

import type { Nanos } from '../sim/events.js';
import { type Ipv4, isMulticastMac, type Mac } from '../wire/addr.js';
import { NetlinkError } from './errors.js';
import type { FdbEntryState } from './netdev.js';

/** One remote VTEP of an entry (struct vxlan_rdst). */
export interface VxlanRdst {
  ip: Ipv4;
  /** UDP destination port. */
  port: number;
  vni: number;
}

export interface VxlanFdbEntry {
  mac: Mac;
  state: FdbEntryState;
  remotes: VxlanRdst[];
  /** Added with `bridge fdb` (NTF_VXLAN_ADDED_BY_USER) rather than learnt. */
  addedByUser: boolean;
  updated: Nanos;
  used: Nanos;
}

/** Defaults a request leaves out: the device's own port and VNI. */
export interface RdstDefaults {
  port: number;
  vni: number;
}

export interface FdbUpdate {
  op: 'add' | 'append' | 'replace';
  mac: Mac;
  state: FdbEntryState;
  rdst: VxlanRdst;
  addedByUser: boolean;
}

function sameRdst(a: VxlanRdst, b: VxlanRdst): boolean {
  return a.ip === b.ip && a.port === b.port && a.vni === b.vni;
}

/** The all-zeros MAC and multicast MACs hold lists of remotes; a unicast MAC one remote. */
export function isGroupMac(mac: Mac): boolean {
  return mac === 0 || isMulticastMac(mac);
}

export class VxlanFdb {
  private readonly entries = new Map<Mac, VxlanFdbEntry>();
  /** Ageing interval in ns (`ageing`, 300 s by default). */
  ageing: Nanos = 300e9;

  private expired(e: VxlanFdbEntry, now: Nanos): boolean {
    return e.state === 'dynamic' && now >= e.updated + this.ageing;
  }

  /** vxlan_find_mac: the entry for `mac`, dropping it first if it has aged out. */
  lookup(mac: Mac, now: Nanos): VxlanFdbEntry | undefined {
    const e = this.entries.get(mac);
    if (e && this.expired(e, now)) {
      this.entries.delete(mac);
      return undefined;
    }
    return e;
  }

  /** Live entries, newest first (hlist_add_head order). */
  list(now: Nanos): VxlanFdbEntry[] {
    const out: VxlanFdbEntry[] = [];
    for (const e of [...this.entries.values()]) {
      if (this.expired(e, now)) this.entries.delete(e.mac);
      else out.push(e);
    }
    return out.reverse();
  }

  /** vxlan_fdb_update from `bridge fdb add|append|replace` (NLM_F_EXCL / NLM_F_APPEND / NLM_F_REPLACE). */
  update(u: FdbUpdate, now: Nanos): void {
    const e = this.lookup(u.mac, now);
    if (e) {
      if (u.op === 'add') throw new NetlinkError('RTNETLINK answers: File exists', 'EEXIST');
      if (e.state !== u.state) {
        e.state = u.state;
        e.updated = now;
      }
      e.addedByUser = e.addedByUser || u.addedByUser;
      if (u.op === 'replace') {
        if (isGroupMac(u.mac)) throw new NetlinkError('Error: Cannot replace non-unicast fdb entries.', 'EOPNOTSUPP');
        // vxlan_fdb_replace: the first remote takes the new address; nothing changes if it is already there.
        if (!e.remotes.some((r) => sameRdst(r, u.rdst))) {
          e.remotes[0] = { ...u.rdst };
          e.updated = now;
        }
      }
      if (u.op === 'append' && isGroupMac(u.mac) && !e.remotes.some((r) => sameRdst(r, u.rdst))) {
        e.remotes.push({ ...u.rdst });
        e.updated = now;
      }
      return;
    }
    // vxlan_fdb_update_create: replace may not create a multicast or all-zeros entry.
    if (u.op === 'replace' && isGroupMac(u.mac))
      throw new NetlinkError('RTNETLINK answers: Operation not supported', 'EOPNOTSUPP');
    this.entries.set(u.mac, {
      mac: u.mac,
      state: u.state,
      remotes: [{ ...u.rdst }],
      addedByUser: u.addedByUser,
      updated: now,
      used: now,
    });
  }

  /** __vxlan_fdb_delete: one remote when `rdst` is given (a miss is not an error), else the whole entry. */
  delete(mac: Mac, rdst: VxlanRdst | null, now: Nanos): void {
    const e = this.lookup(mac, now);
    if (!e) throw new NetlinkError('RTNETLINK answers: No such file or directory', 'ENOENT');
    if (rdst !== null) {
      const i = e.remotes.findIndex((r) => sameRdst(r, rdst));
      if (i < 0) return;
      if (e.remotes.length > 1) {
        e.remotes.splice(i, 1);
        return;
      }
    }
    this.entries.delete(mac);
  }

  /**
   * vxlan_snoop: a frame from `mac` arrived from VTEP `ip`. Returns null when accepted (learnt, refreshed or moved),
   * or the reason to drop it: a static or permanent entry pointing elsewhere is never moved.
   */
  snoop(mac: Mac, rdst: VxlanRdst, now: Nanos): 'VXLAN_ENTRY_EXISTS' | null {
    const e = this.lookup(mac, now);
    if (!e) {
      this.entries.set(mac, {
        mac,
        state: 'dynamic',
        remotes: [{ ...rdst }],
        addedByUser: false,
        updated: now,
        used: now,
      });
      return null;
    }
    e.updated = now;
    const first = e.remotes[0]!;
    if (first.ip === rdst.ip) return null;
    if (e.state !== 'dynamic') return 'VXLAN_ENTRY_EXISTS';
    first.ip = rdst.ip;
    return null;
  }

  /** vxlan_flush: on ndo_stop only dynamic entries go; on delete all. */
  flush(all: boolean): void {
    for (const e of [...this.entries.values()]) if (all || e.state === 'dynamic') this.entries.delete(e.mac);
  }
}
