// Applies parsed setup commands to the emulated kernel, turning every kernel refusal into a ScenarioError at the
// command's line and column (with iproute2's wording, e.g. `Cannot find device "eth9"`). Extensions add appliers for
// the command kinds they register (netfilter's `iptables`), so this file never imports them.

import { Bridge, createBridge } from '../bridge/bridge.js';
import { brFdbAdd, brFdbDel } from '../bridge/fdb_ops.js';
import { NetlinkError } from '../netns/errors.js';
import { addAddr, delAddr, flushAddrs } from '../netns/ifaddr.js';
import type { Kernel } from '../netns/kernel.js';
import { ROOT_NS } from '../netns/kernel.js';
import {
  createDummy,
  createVeth,
  linkDelete,
  linkSetAddress,
  linkSetDown,
  linkSetMaster,
  linkSetMtu,
  linkSetNetns,
  linkSetNomaster,
  linkSetUp,
} from '../netns/link.js';
import type { NetNs } from '../netns/netns.js';
import { routeModify } from '../netns/route.js';
import { createVxlan } from '../netns/vxlan.js';
import { ScenarioError } from './errors.js';
import type { Command, CommandKind, CommandKinds } from './types.js';

export type Applier<K extends CommandKind> = (k: Kernel, cmd: CommandKinds[K]) => void;

const appliers = new Map<string, (k: Kernel, cmd: Command) => void>();

export function registerApplier<K extends CommandKind>(kind: K, fn: Applier<K>): void {
  appliers.set(kind, fn as (k: Kernel, cmd: Command) => void);
}

function nsOf(k: Kernel, name: string | null): NetNs {
  return name === null ? k.root : k.netns(name);
}

const PROTO_NAMES: Record<number, string> = { 2: 'kernel', 3: 'boot', 4: 'static', 0: 'unspec', 1: 'redirect' };

/** Applies one command; a refusal becomes a ScenarioError at `cmd.pos` (or at `at` for multi-part commands). */
export function applyCommand(k: Kernel, cmd: Command): void {
  try {
    applyInner(k, cmd);
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    if (e instanceof NetlinkError || e instanceof Error) throw ScenarioError.at(cmd.pos, e.message);
    throw e;
  }
}

function applyInner(k: Kernel, cmd: Command): void {
  const ext = appliers.get(cmd.kind);
  if (ext) {
    ext(k, cmd);
    return;
  }
  const ns = nsOf(k, cmd.ns);
  switch (cmd.kind) {
    case 'netnsAdd':
      k.addNetns(cmd.name);
      return;
    case 'netnsDel':
      k.delNetns(cmd.name);
      return;
    case 'linkAddVeth': {
      const devNs = cmd.netns !== undefined ? nsOf(k, nsName(cmd.netns)) : ns;
      // The peer goes where the command runs unless its own `netns` says otherwise (not where `netns` put the first end).
      const peerNs = cmd.peer.netns !== undefined ? nsOf(k, nsName(cmd.peer.netns)) : ns;
      const [dev, peer] = createVeth(devNs, {
        name: cmd.name,
        peerName: cmd.peer.name,
        peerNs,
        ...(cmd.address !== undefined ? { mac: cmd.address } : {}),
        ...(cmd.peer.address !== undefined ? { peerMac: cmd.peer.address } : {}),
        ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}),
        ...(cmd.peer.mtu !== undefined ? { peerMtu: cmd.peer.mtu } : {}),
      });
      if (cmd.up) linkSetUp(dev);
      if (cmd.peer.up) linkSetUp(peer);
      return;
    }
    case 'linkAddBridge': {
      if (cmd.stpState === 1)
        throw new NetlinkError('stp_state 1 is not supported: podwire does not run STP (ports forward at once)');
      const devNs = cmd.netns !== undefined ? nsOf(k, nsName(cmd.netns)) : ns;
      const br = createBridge(devNs, cmd.name, {
        ...(cmd.address !== undefined ? { mac: cmd.address } : {}),
        ...(cmd.ageingTime !== undefined ? { ageingTime: cmd.ageingTime * 1e7 } : {}),
        ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}),
      });
      if (cmd.up) linkSetUp(br);
      return;
    }
    case 'linkAddDummy': {
      const devNs = cmd.netns !== undefined ? nsOf(k, nsName(cmd.netns)) : ns;
      const d = createDummy(devNs, cmd.name, cmd.address, cmd.mtu);
      if (cmd.up) linkSetUp(d);
      return;
    }
    case 'linkAddVxlan': {
      const devNs = cmd.netns !== undefined ? nsOf(k, nsName(cmd.netns)) : ns;
      // The lower device is looked up where `ip` runs (ll_name_to_index), the device is created in `netns`.
      const lower = cmd.dev !== undefined ? ns.dev(cmd.dev) : undefined;
      if (lower && lower.ns !== devNs)
        throw new NetlinkError('creating a VXLAN device in another namespace than its lower device is not supported');
      const d = createVxlan(devNs, {
        name: cmd.name,
        vni: cmd.vni,
        learning: cmd.learning,
        ...(cmd.local !== undefined ? { local: cmd.local } : {}),
        ...(cmd.dev !== undefined ? { dev: cmd.dev } : {}),
        ...(cmd.dstport !== undefined ? { dstport: cmd.dstport } : {}),
        ...(cmd.ttl !== undefined ? { ttl: cmd.ttl } : {}),
        ...(cmd.udpCsum !== undefined ? { udpCsum: cmd.udpCsum } : {}),
        ...(cmd.srcPort !== undefined ? { srcPortMin: cmd.srcPort.min, srcPortMax: cmd.srcPort.max } : {}),
        ...(cmd.address !== undefined ? { mac: cmd.address } : {}),
        ...(cmd.mtu !== undefined ? { mtu: cmd.mtu } : {}),
      });
      if (cmd.up) linkSetUp(d);
      return;
    }
    case 'linkSet': {
      const dev = ns.dev(cmd.dev);
      // iproute2 sends one request; the kernel applies netns, name, mtu, address, master, then flags (do_setlink).
      if (cmd.netns !== undefined) {
        linkSetNetns(dev, nsOf(k, nsName(cmd.netns)));
      }
      if (cmd.name !== undefined) dev.ns.renameDev(dev, cmd.name);
      if (cmd.mtu !== undefined) {
        linkSetMtu(dev, cmd.mtu);
        if (dev instanceof Bridge) dev.mtuSet = true;
      }
      if (cmd.address !== undefined) {
        linkSetAddress(dev, cmd.address);
        if (dev instanceof Bridge) dev.setMac(cmd.address);
      }
      if (cmd.master !== undefined) {
        if (cmd.master === null) linkSetNomaster(dev);
        else linkSetMaster(dev, dev.ns.dev(cmd.master));
      }
      if (cmd.promisc !== undefined) dev.promisc = cmd.promisc;
      if (cmd.up === true) linkSetUp(dev);
      if (cmd.up === false) linkSetDown(dev);
      return;
    }
    case 'linkDel':
      linkDelete(ns.dev(cmd.dev));
      return;
    case 'addrAdd':
      addAddr(ns, ns.dev(cmd.dev), cmd.cidr.addr, cmd.cidr.len, {
        broadcast: cmd.broadcast ?? null,
        scope: cmd.scope,
        ...(cmd.label !== undefined ? { label: cmd.label } : {}),
      });
      return;
    case 'addrDel':
      delAddr(ns, ns.dev(cmd.dev), cmd.addr, cmd.len ?? null);
      return;
    case 'addrFlush':
      flushAddrs(ns, ns.dev(cmd.dev));
      return;
    case 'routeAdd':
      routeModify(ns, {
        op: cmd.op,
        type: cmd.type ?? 'unicast',
        dst: cmd.dst.addr,
        len: cmd.dst.len,
        gw: cmd.via ?? null,
        dev: cmd.dev !== undefined ? ns.dev(cmd.dev) : null,
        metric: cmd.metric ?? null,
        prefsrc: cmd.src ?? null,
        table: cmd.table,
        proto: cmd.protocol !== undefined ? (PROTO_NAMES[cmd.protocol] ?? String(cmd.protocol)) : null,
        scope: cmd.scope ?? null,
        onlink: cmd.onlink,
        mtu: cmd.mtu ?? null,
        advmss: cmd.advmss ?? null,
      });
      return;
    case 'neighAdd': {
      const dev = ns.dev(cmd.dev);
      const state =
        cmd.nud === 'permanent'
          ? 'PERMANENT'
          : cmd.nud === 'noarp'
            ? 'NOARP'
            : cmd.nud === 'stale'
              ? 'STALE'
              : 'REACHABLE';
      if (cmd.lladdr === undefined) throw new NetlinkError('Error: No link layer address given.');
      try {
        ns.neigh.addStatic(dev, cmd.dst, cmd.lladdr ?? 0, state, cmd.op === 'replace');
      } catch (e) {
        throw new NetlinkError(e instanceof Error ? e.message : String(e), 'EEXIST');
      }
      return;
    }
    case 'neighDel': {
      const dev = ns.dev(cmd.dev);
      const n = ns.neigh.lookup(dev, cmd.dst);
      if (!n) throw new NetlinkError('RTNETLINK answers: No such file or directory', 'ENOENT');
      ns.neigh.remove(n);
      return;
    }
    case 'fdbAdd':
      brFdbAdd(ns, cmd);
      return;
    case 'fdbDel':
      brFdbDel(ns, cmd);
      return;
    case 'bridgeLinkSet': {
      const dev = ns.dev(cmd.dev);
      const br = dev.master;
      if (!(br instanceof Bridge)) throw new NetlinkError(`Error: ${cmd.dev} is not a bridge port.`, 'EOPNOTSUPP');
      const p = br.ports.get(dev)!;
      if (cmd.hairpin !== undefined) p.hairpin = cmd.hairpin;
      if (cmd.learning !== undefined) p.learning = cmd.learning;
      if (cmd.flood !== undefined) p.flood = cmd.flood;
      return;
    }
    case 'sysctl':
      for (const s of cmd.settings) {
        try {
          ns.sysctl.set(s.key, s.value);
        } catch (e) {
          throw ScenarioError.at(s.pos, e instanceof Error ? e.message : String(e));
        }
      }
      return;
  }
}

/** The scenario names the initial namespace "root"; `netns root` means it too. */
function nsName(name: string): string | null {
  return name === ROOT_NS ? null : name;
}
