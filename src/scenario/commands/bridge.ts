// The `bridge` program (iproute2's bridge(8)): `bridge fdb add|append|replace|del` and `bridge link set`. As in
// fdb_modify(), a word that is no keyword is the MAC (`to` optional), neither `self` nor `master` means `self`,
// and the entry state is worked out from the keywords the same way: no state keyword means permanent (a local
// entry in the kernel), `static`/`temp` static, `dynamic` dynamic. Limits: no VLANs, ports, nexthop ids or
// `via`; `bridge link set` supports only hairpin, learning and flood.

import type { Ipv4 } from '../../wire/addr.js';
import type { BridgeLinkSet, Command, FdbAdd, FdbDel, FdbState } from '../types.js';
import type { Args } from './args.js';
import type { CommandContext, Where } from './dispatch.js';
import { globalOptions } from './ip.js';
import { accepted, keywords, lookup, lookupOption, nextKeyword, unsupportedOption } from './keywords.js';
import type { Token } from './tokenize.js';
import { devName, ipv4, mac, onOff, uint } from './values.js';

const OBJECTS = keywords('link', 'fdb', '!mdb', '!mst', '!vlan', '!vni', '!monitor', '!help');

const FDB_VERBS = keywords(
  'add',
  'append',
  'replace',
  'delete:del',
  '!get',
  '!show',
  '!lst',
  '!list',
  '!=flush',
  '!help',
);

// fdb_modify() order.
const FDB_OPTS = keywords(
  '=dev',
  '=dst',
  '!=nhid',
  '!=port',
  '=vni',
  '!=src_vni',
  '!=via',
  '=self',
  'master',
  '!router',
  // iproute2 tests local, permanent, temp, static in that order; no two share a first letter, so listing the
  // canonical names first resolves every abbreviation the same way.
  'permanent',
  'local:permanent',
  'static',
  'temp:static',
  'dynamic',
  '!vlan',
  '!use',
  '!extern_learn',
  '!sticky',
  '!=activity_notify',
  '!=inactive',
  '!=norefresh',
  '=to',
  '!help',
);

const LINK_VERBS = keywords('set', 'change:set', '!show', '!lst', '!list', '!help');

// brlink_modify() order; all exact.
const LINK_OPTS = keywords(
  '=dev',
  '!=guard',
  '=hairpin',
  '!=fastleave',
  '!=root_block',
  '=learning',
  '!=learning_sync',
  '=flood',
  '!=mcast_router',
  '!=mcast_flood',
  '!=bcast_flood',
  '!=mcast_to_unicast',
  '!=mcast_max_groups',
  '!=cost',
  '!=priority',
  '!=state',
  '!=hwmode',
  '!=self',
  '!=master',
  '!=neigh_suppress',
  '!=neigh_vlan_suppress',
  '!=neigh_forward_grat',
  '!=vlan_tunnel',
  '!=isolated',
  '!=locked',
  '!=mab',
  '!=backup_port',
  '!=nobackup_port',
  '!=backup_nhid',
);

const VNI_MAX = 0xffffff;

export function parseBridge(args: Args, ctx: CommandContext): Command {
  const w: Where = { ns: globalOptions(args, 'bridge', ctx.ns), pos: ctx.pos };
  const { id } = nextKeyword(args, OBJECTS, { what: 'object', context: 'bridge' });
  return id === 'fdb' ? fdb(args, w) : link(args, w);
}

function fdb(args: Args, w: Where): FdbAdd | FdbDel {
  const { id } = nextKeyword(args, FDB_VERBS, { what: 'command', context: 'bridge fdb' });
  const context = `bridge fdb ${id}`;
  let addr: { tok: Token; mac: number } | undefined;
  let dev: string | undefined;
  let self = false;
  let master = false;
  let dst: Ipv4 | undefined;
  let vni: number | undefined;
  // NUD bits as fdb_modify() builds them.
  let permanent = false;
  let reachable = false;
  let noarp = true;

  while (!args.done) {
    const tok = args.next('an option');
    const k = lookupOption(args, FDB_OPTS, tok, context);
    if (k === undefined || k.id === 'to') {
      const m = k === undefined ? tok : args.next('a MAC address', tok);
      if (k === undefined && !/^[0-9a-fA-F]{1,2}[:-]/.test(m.text)) {
        args.fail(m, `unknown option '${m.text}' for '${context}'; expected one of: ${accepted(FDB_OPTS)}`);
      }
      if (addr !== undefined) args.fail(m, `MAC address given twice (already '${addr.tok.text}')`);
      addr = { tok: m, mac: mac(args, m) };
      continue;
    }
    switch (k.id) {
      case 'dev':
        dev = devName(args, args.next('a device name', tok));
        break;
      case 'dst':
        if (dst !== undefined) args.fail(tok, "'dst' given twice");
        dst = ipv4(args, args.next('an address', tok), 'destination address');
        break;
      case 'vni':
        vni = uint(args, args.next('a VNI', tok), 'VNI', VNI_MAX);
        break;
      case 'self':
        self = true;
        break;
      case 'master':
        master = true;
        break;
      case 'permanent':
        permanent = true;
        break;
      case 'static':
        reachable = true;
        break;
      case 'dynamic':
        reachable = true;
        noarp = false;
        break;
    }
  }
  if (addr === undefined || dev === undefined) {
    args.fail(args.last, `'${context}' needs a MAC address and 'dev NAME'`);
  }
  if (!self && !master) self = true;
  if (!permanent && !reachable) permanent = true;
  const common = { ns: w.ns, pos: w.pos, mac: addr.mac, dev, self, master };
  const extra: { dst?: Ipv4; vni?: number } = {};
  if (dst !== undefined) extra.dst = dst;
  if (vni !== undefined) extra.vni = vni;
  if (id === 'del') return { kind: 'fdbDel', ...common, ...extra };
  const state: FdbState = permanent ? 'permanent' : noarp ? 'static' : 'dynamic';
  return { kind: 'fdbAdd', op: id as FdbAdd['op'], ...common, state, ...extra };
}

function link(args: Args, w: Where): BridgeLinkSet {
  nextKeyword(args, LINK_VERBS, { what: 'command', context: 'bridge link' });
  const context = 'bridge link set';
  const cmd: Partial<BridgeLinkSet> = {};
  let dev: string | undefined;
  while (!args.done) {
    const tok = args.next('an option');
    const k = lookup(LINK_OPTS, tok.text);
    if (k === undefined) {
      args.fail(tok, `unknown option '${tok.text}' for '${context}'; expected one of: ${accepted(LINK_OPTS)}`);
    }
    if (k.unsupported) unsupportedOption(args, tok, k, context, accepted(LINK_OPTS));
    if (k.id === 'dev') {
      dev = devName(args, args.next('a device name', tok));
      continue;
    }
    const v = onOff(args, args.next('on or off', tok), k.name);
    if (k.id === 'hairpin') cmd.hairpin = v;
    else if (k.id === 'learning') cmd.learning = v;
    else cmd.flood = v;
  }
  if (dev === undefined) args.fail(args.last, `missing 'dev NAME' in '${context}'`);
  return { ...cmd, kind: 'bridgeLinkSet', ns: w.ns, pos: w.pos, dev };
}
