// Netfilter hook points of one namespace (nf_hook_ops registered per hook with a priority). The IP and bridge paths
// call `run` at PREROUTING, INPUT, FORWARD, OUTPUT and POSTROUTING; with no hooks registered the call is a length
// check. The iptables engine registers its tables here, so the core never imports it.

import type { NetDev } from './netdev.js';
import type { NetNs } from './netns.js';
import type { Skb } from './skb.js';

export type NfHook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** accept: continue; drop: the caller frees the packet with NETFILTER_DROP; stolen: the hook took ownership. */
export type NfVerdict = 'accept' | 'drop' | 'stolen';

export interface NfState {
  ns: NetNs;
  hook: NfHook;
  inDev: NetDev | null;
  outDev: NetDev | null;
  /** Set when the bridge calls the hook for a bridged frame (br_netfilter). */
  bridged: boolean;
  /** Port devices for -m physdev when bridged. */
  physIn?: NetDev | null;
  physOut?: NetDev | null;
}

export interface NfHookOps {
  hook: NfHook;
  /** Lower runs first (NF_IP_PRI_RAW -300, CONNTRACK -200, MANGLE -150, NAT_DST -100, FILTER 0, NAT_SRC 100, …). */
  priority: number;
  name: string;
  fn: (skb: Skb, state: NfState) => NfVerdict;
}

export class NfHooks {
  private byHook = new Map<NfHook, NfHookOps[]>();

  register(ops: NfHookOps): void {
    const list = this.byHook.get(ops.hook) ?? [];
    list.push(ops);
    list.sort((a, b) => a.priority - b.priority);
    this.byHook.set(ops.hook, list);
  }

  unregister(ops: NfHookOps): void {
    const list = this.byHook.get(ops.hook);
    if (!list) return;
    const i = list.indexOf(ops);
    if (i >= 0) list.splice(i, 1);
  }

  has(hook: NfHook): boolean {
    const l = this.byHook.get(hook);
    return l !== undefined && l.length > 0;
  }

  run(hook: NfHook, skb: Skb, state: NfState): NfVerdict {
    const list = this.byHook.get(hook);
    if (!list) return 'accept';
    for (const ops of list) {
      const v = ops.fn(skb, state);
      if (v !== 'accept') return v;
    }
    return 'accept';
  }
}
