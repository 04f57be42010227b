// `ip link add|set|delete`, following iproute2's iplink_parse(): options in any order, a word that is no
// keyword is the device (`dev` optional), `type KIND` ends the generic options and hands the rest to the kind
// (veth: `peer` and a second iplink_parse for the peer; bridge and vxlan: their own options, vxlan_parse_opt's
// keywords in its order, so `dev` after `type vxlan` is the lower device). Kinds: veth, bridge, dummy, vxlan.
// Keyword order and exact/prefix matching copy iproute2, so `ip link set eth0 m br0` is `master`. Options we do
// not model (txqueuelen, arp, alias, …) are errors, never ignored.

import type { Mac } from '../../wire/addr.js';
import type {
  Command,
  LinkAddBridge,
  LinkAddDummy,
  LinkAddVeth,
  LinkAddVxlan,
  LinkAttrs,
  LinkDel,
  LinkSet,
} from '../types.js';
import type { Args } from './args.js';
import type { Where } from './dispatch.js';
import { accepted, keywords, lookup, nextKeyword, unsupportedOption } from './keywords.js';
import type { Token } from './tokenize.js';
import { devName, ipv4, mac, netnsName, onOff, uint } from './values.js';

const VERBS = keywords(
  'add',
  'set',
  'change:set',
  '!replace',
  'delete',
  '!show',
  '!lst',
  '!list',
  '!xstats',
  '!afstats',
  '!property',
  '!help',
);

// iplink_parse() order.
const OPTS = keywords(
  '=up',
  '=down',
  '=name',
  '!=index',
  '!link',
  'address',
  '!broadcast',
  '!=brd',
  '!txqueuelen',
  '!=qlen',
  '!txqlen',
  '=mtu',
  '!=inet',
  '!=xdpgeneric',
  '!=xdpdrv',
  '!=xdpoffload',
  '!=xdp',
  '=netns',
  '!=multicast',
  '!=allmulticast',
  '=promisc',
  '!=trailers',
  '!=arp',
  '!=carrier',
  '!=vf',
  'master',
  '!=vrf',
  'nomaster',
  '!dynamic',
  'type',
  '!alias',
  '!=group',
  '!=mode',
  '!=state',
  '!numtxqueues',
  '!numrxqueues',
  '!addrgenmode',
  '!link-netns',
  '!link-netnsid',
  '!=protodown',
  '!=protodown_reason',
  '!=gso_max_size',
  '!=gso_max_segs',
  '!=gro_max_size',
  '!=gso_ipv4_max_size',
  '!=gro_ipv4_max_size',
  '!=parentdev',
  '!help',
  '=dev',
);

const KINDS = keywords('=veth', '=bridge', '=dummy', '=vxlan', '!=macvlan', '!=ipvlan', '!=vlan', '!=bond', '!=vrf');
const KIND_LIST = 'veth, bridge, dummy, vxlan';

// vxlan_parse_opt() order (iproute2 6.1); `df` is exact, the rest prefix matches.
const VXLAN_OPTS = keywords(
  'id',
  'vni:id',
  '!group',
  '!remote',
  'local',
  'dev',
  'ttl',
  'hoplimit:ttl',
  '!=df',
  '!tos',
  '!dsfield',
  '!label',
  '!flowlabel',
  '!ageing',
  '!maxaddress',
  'port:srcport',
  'srcport',
  'dstport',
  'nolearning',
  'learning',
  '!noproxy',
  '!proxy',
  '!norsc',
  '!rsc',
  '!nol2miss',
  '!l2miss',
  '!nol3miss',
  '!l3miss',
  'udpcsum',
  'noudpcsum',
  '!udp6zerocsumtx',
  '!noudp6zerocsumtx',
  '!udp6zerocsumrx',
  '!noudp6zerocsumrx',
  '!remcsumtx',
  '!noremcsumtx',
  '!remcsumrx',
  '!noremcsumrx',
  '!external',
  '!noexternal',
  '!gbp',
  '!gpe',
  '!vnifilter',
  '!novnifilter',
  '!help',
);
const VNI_MAX = 0xffffff;

// bridge_parse_opt() order.
const BRIDGE_OPTS = keywords(
  '!forward_delay',
  '!hello_time',
  '!max_age',
  'ageing_time',
  'stp_state',
  '!=stp_mode',
  '!priority',
  '!vlan_filtering',
  '!vlan_protocol',
  '!group_fwd_mask',
  '!group_address',
  '!=no_linklocal_learn',
  '!=mst_enabled',
  '!=fdb_max_learned',
  '!fdb_flush',
  '!vlan_default_pvid',
  '!vlan_stats_enabled',
  '!vlan_stats_per_port',
  '!mcast_router',
  '!mcast_snooping',
  '!=mcast_vlan_snooping',
  '!mcast_query_use_ifaddr',
  '!mcast_querier',
  '!mcast_hash_elasticity',
  '!mcast_hash_max',
  '!mcast_last_member_count',
  '!mcast_startup_query_count',
  '!mcast_last_member_interval',
  '!mcast_membership_interval',
  '!mcast_querier_interval',
  '!mcast_query_interval',
  '!mcast_query_response_interval',
  '!mcast_startup_query_interval',
  '!mcast_stats_enabled',
  '!mcast_igmp_version',
  '!mcast_mld_version',
  '!nf_call_iptables',
  '!nf_call_ip6tables',
  '!nf_call_arptables',
  '!=mdb_offload_fail_notification',
  '!=fdb_local_vlan_0',
  '!help',
);

const ADD_OPTS = ['up', 'name', 'address', 'mtu', 'netns', 'type', 'dev'];
const PEER_OPTS = ['up', 'name', 'address', 'mtu', 'netns', 'dev'];
const SET_OPTS = ['up', 'down', 'name', 'address', 'mtu', 'netns', 'promisc', 'master', 'nomaster', 'dev'];
const DEL_OPTS = ['dev', 'type'];

const MTU_MAX = 0xffffffff;

interface LinkOpts {
  /** `dev NAME` or a bare word. */
  dev?: Token;
  /** `name NAME`. */
  name?: Token;
  up?: boolean;
  mtu?: number;
  address?: Mac;
  netns?: string;
  promisc?: boolean;
  master?: string | null;
  type?: Token;
}

function listing(allowed: readonly string[]): string {
  return OPTS.filter((k) => allowed.includes(k.id))
    .map((k) => k.name)
    .join(', ');
}

/** One iplink_parse() pass; stops after `type KIND` when the type is allowed. */
function linkOpts(args: Args, allowed: readonly string[], context: string): LinkOpts {
  const o: LinkOpts = {};
  while (!args.done) {
    const tok = args.next('an option');
    const k = lookup(OPTS, tok.text);
    if (k === undefined || k.id === 'dev') {
      // In `ip link add`, `name X` already names the device, so a further bare word is a stray option.
      const named = k === undefined && o.name !== undefined && allowed !== SET_OPTS;
      if (o.dev !== undefined || named) {
        if (k === undefined) {
          args.fail(tok, `unknown option '${tok.text}' for '${context}'; expected one of: ${listing(allowed)}`);
        }
        args.fail(tok, `device given twice (already '${(o.dev ?? o.name)!.text}')`);
      }
      const nameTok = k === undefined ? tok : args.next('a device name', tok);
      devName(args, nameTok);
      o.dev = nameTok;
      continue;
    }
    if (k.unsupported || !allowed.includes(k.id)) {
      if (k.id === 'type' && allowed === PEER_OPTS) args.fail(tok, "'type' given twice");
      unsupportedOption(args, tok, k, context, listing(allowed));
    }
    switch (k.id) {
      case 'up':
        o.up = true;
        break;
      case 'down':
        o.up = false;
        break;
      case 'name': {
        const t = args.next('a device name', tok);
        devName(args, t);
        if (o.name !== undefined) args.fail(tok, "'name' given twice");
        o.name = t;
        break;
      }
      case 'address':
        o.address = mac(args, args.next('a MAC address', tok));
        break;
      case 'mtu':
        o.mtu = uint(args, args.next('an MTU', tok), 'MTU', MTU_MAX);
        break;
      case 'netns':
        o.netns = netnsName(args, args.next('a namespace name', tok));
        break;
      case 'promisc':
        o.promisc = onOff(args, args.next('on or off', tok), 'promisc');
        break;
      case 'master':
        o.master = devName(args, args.next('a bridge name', tok));
        break;
      case 'nomaster':
        o.master = null;
        break;
      case 'type':
        o.type = args.next('a link type', tok);
        return o;
    }
  }
  return o;
}

/** The created device's attributes; `name` and `dev` both name it, as in iproute2's "ip link add dev/name". */
function attrs(args: Args, o: LinkOpts, context: string): LinkAttrs {
  if (o.name !== undefined && o.dev !== undefined && o.name.text !== o.dev.text) {
    args.fail(o.dev, `device name given twice ('${o.name.text}' and '${o.dev.text}')`);
  }
  const nameTok = o.name ?? o.dev;
  if (nameTok === undefined) args.fail(args.last, `missing device name in '${context}'`);
  const a: LinkAttrs = { name: nameTok.text };
  if (o.address !== undefined) a.address = o.address;
  if (o.mtu !== undefined) a.mtu = o.mtu;
  if (o.netns !== undefined) a.netns = o.netns;
  if (o.up !== undefined) a.up = o.up;
  return a;
}

export function parseIpLink(args: Args, w: Where): Command {
  const { id } = nextKeyword(args, VERBS, { what: 'command', context: 'ip link' });
  switch (id) {
    case 'add':
      return linkAdd(args, w);
    case 'set':
      return linkSet(args, w);
    default:
      return linkDel(args, w);
  }
}

function linkAdd(args: Args, w: Where): Command {
  const context = 'ip link add';
  const o = linkOpts(args, ADD_OPTS, context);
  const link = attrs(args, o, context);
  if (o.type === undefined) args.fail(args.last, `missing 'type' in '${context}' (${KIND_LIST})`);
  const kind = lookupKind(args, o.type);
  switch (kind) {
    case 'veth': {
      const peerKw = args.peek();
      if (peerKw === undefined) args.fail(o.type, "'type veth' needs 'peer [name] PEER'");
      if (peerKw.text !== 'peer') {
        args.fail(peerKw, `unknown option '${peerKw.text}' for 'type veth'; expected: peer`);
      }
      args.next('peer');
      const p = linkOpts(args, PEER_OPTS, 'ip link add … type veth peer');
      const cmd: LinkAddVeth = {
        kind: 'linkAddVeth',
        ns: w.ns,
        pos: w.pos,
        ...link,
        peer: attrs(args, p, 'peer'),
      };
      return cmd;
    }
    case 'bridge': {
      const cmd: LinkAddBridge = { kind: 'linkAddBridge', ns: w.ns, pos: w.pos, ...link };
      bridgeOpts(args, cmd);
      return cmd;
    }
    case 'vxlan':
      return vxlanOpts(args, o.type, { kind: 'linkAddVxlan', ns: w.ns, pos: w.pos, ...link });
    default: {
      const cmd: LinkAddDummy = { kind: 'linkAddDummy', ns: w.ns, pos: w.pos, ...link };
      args.end("'type dummy'");
      return cmd;
    }
  }
}

function lookupKind(args: Args, tok: Token): string {
  const k = KINDS.find((x) => x.name === tok.text);
  if (k === undefined || k.unsupported) {
    const what = k === undefined ? 'unknown' : 'unsupported';
    args.fail(tok, `${what} link type '${tok.text}'; supported: ${KIND_LIST}`);
  }
  return k.id;
}

function bridgeOpts(args: Args, cmd: LinkAddBridge): void {
  while (!args.done) {
    const tok = args.next('a bridge option');
    const k = lookup(BRIDGE_OPTS, tok.text);
    if (k === undefined) {
      args.fail(tok, `unknown option '${tok.text}' for 'type bridge'; expected one of: ageing_time, stp_state`);
    }
    if (k.unsupported) {
      const shown = k.name === tok.text ? `'${k.name}'` : `'${tok.text}' (${k.name})`;
      args.fail(tok, `bridge option ${shown} is not supported; supported: ageing_time, stp_state`);
    }
    if (k.id === 'stp_state') {
      const v = args.next('0 or 1', tok);
      cmd.stpState = uint(args, v, 'stp_state', 1) as 0 | 1;
    } else {
      cmd.ageingTime = uint(args, args.next('a time in centiseconds', tok), 'ageing_time');
    }
  }
}

/** vxlan_parse_opt: every word after `type vxlan` is a VXLAN option; each may be given once. */
function vxlanOpts(args: Args, typeTok: Token, base: Omit<LinkAddVxlan, 'vni' | 'learning'>): LinkAddVxlan {
  const context = 'type vxlan';
  const seen = new Map<string, Token>();
  const once = (key: string, tok: Token) => {
    const prev = seen.get(key);
    if (prev !== undefined) args.fail(tok, `'${key}' given twice (already '${prev.text}')`);
    seen.set(key, tok);
  };
  let vni: number | undefined;
  let learning = true;
  const cmd: Partial<LinkAddVxlan> = {};
  while (!args.done) {
    const tok = args.next('a vxlan option');
    const k = lookup(VXLAN_OPTS, tok.text);
    if (k === undefined) {
      args.fail(tok, `unknown option '${tok.text}' for '${context}'; expected one of: ${accepted(VXLAN_OPTS)}`);
    }
    if (k.unsupported) unsupportedOption(args, tok, k, context, accepted(VXLAN_OPTS));
    switch (k.id) {
      case 'id':
        once('id', tok);
        vni = uint(args, args.next('a VNI', tok), 'VNI', VNI_MAX);
        break;
      case 'local':
        once('local', tok);
        cmd.local = ipv4(args, args.next('an address', tok), 'local address');
        break;
      case 'dev':
        once('dev', tok);
        cmd.dev = devName(args, args.next('a device name', tok));
        break;
      case 'ttl': {
        once('ttl', tok);
        const v = args.next('a TTL', tok);
        if (v.text === 'inherit') args.fail(v, "'ttl inherit' is not supported; use a number 1-255 or auto");
        cmd.ttl = v.text === 'auto' ? 0 : uint(args, v, 'TTL', 255);
        break;
      }
      case 'srcport': {
        once('srcport', tok);
        const min = uint(args, args.next('the lowest source port', tok), 'min port', 0xffff);
        const max = uint(args, args.next('the highest source port', tok), 'max port', 0xffff);
        // iproute2 sends IFLA_VXLAN_PORT_RANGE only when one of them is non-zero.
        if (min !== 0 || max !== 0) cmd.srcPort = { min, max };
        break;
      }
      case 'dstport':
        once('dstport', tok);
        cmd.dstport = uint(args, args.next('a port', tok), 'dst port', 0xffff);
        break;
      case 'nolearning':
      case 'learning':
        once('learning', tok);
        learning = k.id === 'learning';
        break;
      case 'udpcsum':
      case 'noudpcsum':
        once('udpcsum', tok);
        cmd.udpCsum = k.id === 'udpcsum';
        break;
    }
  }
  if (vni === undefined) args.fail(typeTok, "'type vxlan' needs 'id VNI' (vxlan: missing virtual network identifier)");
  return { ...base, ...cmd, vni, learning };
}

function linkSet(args: Args, w: Where): LinkSet {
  const o = linkOpts(args, SET_OPTS, 'ip link set');
  if (o.dev === undefined) args.fail(args.last, "missing device in 'ip link set' ([dev] NAME)");
  const cmd: LinkSet = { kind: 'linkSet', ns: w.ns, pos: w.pos, dev: o.dev.text };
  if (o.up !== undefined) cmd.up = o.up;
  if (o.netns !== undefined) cmd.netns = o.netns;
  if (o.master !== undefined) cmd.master = o.master;
  if (o.name !== undefined) cmd.name = o.name.text;
  if (o.mtu !== undefined) cmd.mtu = o.mtu;
  if (o.address !== undefined) cmd.address = o.address;
  if (o.promisc !== undefined) cmd.promisc = o.promisc;
  return cmd;
}

function linkDel(args: Args, w: Where): LinkDel {
  const o = linkOpts(args, DEL_OPTS, 'ip link delete');
  if (o.dev === undefined) args.fail(args.last, "missing device in 'ip link delete' ([dev] NAME)");
  // A trailing `type KIND` is accepted by iproute2 and ignored by the kernel's dellink; check it names a kind.
  if (o.type !== undefined) lookupKind(args, o.type);
  args.end("'ip link delete'");
  return { kind: 'linkDel', ns: w.ns, pos: w.pos, dev: o.dev.text };
}
