// Netfilter's trace events, in the spirit of `iptables -j TRACE` (`TRACE: filter:INPUT:rule:2`): one `nf` event for
// every rule a packet matched (with its number, text and verdict) and for every policy or implicit return, one `nat`
// event for every address/port rewrite, and `ct` events for conntrack decisions. Registered by augmentation so the
// core trace module never imports netfilter.

import { registerTextFormatter } from '../trace/text.js';

declare module '../trace/events.js' {
  interface TraceKinds {
    /** A rule matched (`rule`), a chain ended in its policy (`policy`) or fell off a user chain (`return`). */
    nf: {
      table: string;
      chain: string;
      hook: string;
      kind: 'rule' | 'policy' | 'return';
      /** 1-based rule number in its chain (for policy/return: the position after the last rule, like TRACE). */
      num: number;
      rule?: string;
      verdict: string;
    };
    /** A NAT rewrite of this packet's bytes. */
    nat: { hook: string; what: 'SNAT' | 'DNAT'; from: string; to: string; detail?: string };
    /** A conntrack decision for this packet. */
    ct: { hook: string; state: string; dir: string; tuple: string; action: string };
  }
}

let registered = false;

export function registerNetfilterTraceFormatters(): void {
  if (registered) return;
  registered = true;
  registerTextFormatter('nf', (e) =>
    e.kind === 'rule'
      ? `TRACE ${e.table}:${e.chain}:rule:${e.num} -A ${e.chain} ${e.rule ?? ''} → ${e.verdict}`
      : `TRACE ${e.table}:${e.chain}:${e.kind}:${e.num} → ${e.verdict}`,
  );
  registerTextFormatter('nat', (e) => `${e.what} ${e.from} → ${e.to} (${e.hook})${e.detail ? ` ${e.detail}` : ''}`);
  registerTextFormatter('ct', (e) => `conntrack ${e.action} ${e.state} ${e.dir} ${e.tuple} (${e.hook})`);
}
