// What `ip -d link show` prints for a bridge (br_fill_info) and for each of its ports (br_port_fill_attrs,
// `bridge_slave …`), in iproute2 6.1's order and format. STP is not run, so the bridge is its own root, every
// timer but two reads 0.00, and a port is `forwarding` while the bridge is up and the port is running, else
// `disabled`. The two: br_make_forwarding arms a port's forward delay timer (15 s) when it starts forwarding even
// without STP, and the gc timer follows br_fdb_cleanup: first run 0.1 s after the bridge opens, then again after
// the ageing time or when the next dynamic entry expires (at least 10 ms apart).
// Limits: multicast snooping, VLAN and STP values are the kernel's defaults (none of them is modelled); the gc timer
// is replayed from the entries as they are now, so an entry refreshed since an earlier run counts with its new time;
// a port's path cost is 2 for a veth (10 Gb/s) and 100 for devices without a link speed.

import type { Bridge, BridgePort } from './bridge.js';

/** iproute2's br_dump_bridge_id: priority as 4 hex digits, then the MAC's bytes in %x without padding. */
export function bridgeIdText(br: Bridge): string {
  const bytes: string[] = [];
  for (let i = 5; i >= 0; i--) bytes.push((Math.floor(br.mac / 256 ** i) % 256).toString(16));
  return `8000.${bytes.join(':')}`;
}

/** A timer as `%7.2f` seconds of the clock_t (centiseconds, truncated) the kernel reports. */
function timer(ns: number): string {
  return (Math.floor(Math.max(0, ns) / 1e7) / 100).toFixed(2).padStart(7);
}

const GC_FIRST_NS = 100e6;
const GC_MIN_NS = 10e6;
const GC_MAX_RUNS = 100000;

/** Time left until the next br_fdb_cleanup run. */
export function gcTimerRemaining(br: Bridge, now: number): number {
  if (br.openedAt === null) return 0;
  const ageing = br.ageingTime;
  const dynamic = [...br.fdb.entries.values()].filter((e) => !e.isLocal && !e.isStatic);
  let t = br.openedAt + GC_FIRST_NS;
  for (let i = 0; i < GC_MAX_RUNS && t <= now; i++) {
    let delay = ageing;
    for (const e of dynamic) {
      if (e.updated > t) continue;
      const expires = e.updated + ageing;
      if (expires > t) delay = Math.min(delay, expires - t);
    }
    t += Math.max(delay, GC_MIN_NS);
  }
  return t - now;
}

export function bridgeInfoData(br: Bridge): string {
  const id = bridgeIdText(br);
  const zero = timer(0);
  return [
    'forward_delay 1500 hello_time 200 max_age 2000',
    `ageing_time ${Math.round(br.ageingTime / 1e7)}`,
    'stp_state 0 priority 32768 vlan_filtering 0',
    `bridge_id ${id} designated_root ${id}`,
    'root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0',
    `hello_timer ${zero} tcn_timer ${zero} topology_change_timer ${zero}`,
    `gc_timer ${timer(gcTimerRemaining(br, br.ns.kernel.now))}`,
    'group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0',
    'mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096',
    'mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100',
    'mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500',
    'mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0',
    'mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 ',
  ].join(' ');
}

const onOff = (b: boolean) => (b ? 'on' : 'off');

const FORWARD_DELAY_NS = 15e9;

export function bridgePortInfo(br: Bridge, p: BridgePort): string {
  const id = bridgeIdText(br);
  const zero = timer(0);
  const forwarding = br.portForwarding(p);
  const fwdDelay =
    forwarding && p.forwardingSince !== null ? p.forwardingSince + FORWARD_DELAY_NS - br.ns.kernel.now : 0;
  const portId = 0x8000 | p.portNo;
  return [
    `bridge_slave state ${forwarding ? 'forwarding' : 'disabled'} priority 32`,
    `cost ${p.dev.kind === 'veth' ? 2 : 100}`,
    `hairpin ${onOff(p.hairpin)} guard off root_block off fastleave off`,
    `learning ${onOff(p.learning)} flood ${onOff(p.flood)}`,
    `port_id 0x${portId.toString(16)} port_no 0x${p.portNo.toString(16)}`,
    `designated_port ${portId} designated_cost 0 designated_bridge ${id} designated_root ${id}`,
    `hold_timer ${zero} message_age_timer ${zero} forward_delay_timer ${timer(fwdDelay)}`,
    'topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off',
    'mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0',
    'vlan_tunnel off isolated off locked off ',
  ].join(' ');
}
