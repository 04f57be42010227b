// What conntrack attaches to a packet (skb->_nfct and its ctinfo): the entry, the packet's direction in it and
// its state as `-m conntrack --ctstate` sees it. Added to SkbExt by declaration merging so the core stays
// unaware of netfilter. `ctTable` names the namespace's table that classified the packet: a packet that
// crossed into another namespace carries stale fields, which that namespace's table ignores (as the kernel
// resets _nfct when a packet changes namespace).

import type { CtDir, CtState } from '../types.js';
import type { Conn } from './conn.js';
import type { Conntrack } from './conntrack.js';

declare module '../../netns/skb.js' {
  interface SkbExt {
    /** The entry this packet belongs to; absent for INVALID and UNTRACKED packets. */
    ct?: Conn | undefined;
    ctDir?: CtDir | undefined;
    ctState?: CtState | undefined;
    ctTable?: Conntrack | undefined;
  }
}
