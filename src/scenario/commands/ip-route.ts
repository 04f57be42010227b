// `ip route add|delete|replace|append|change`, following iproute2's iproute_modify(): options in any order, the
// destination may follow `to`, a route type (`blackhole`, `unreachable`, `prohibit`, `local`, `unicast`) may
// precede it, `default`/`any`/`all` mean 0.0.0.0/0. The defaults iproute2 fills in before talking to the kernel
// are filled in here too (type unicast, proto boot, table local for local routes, scope host/link/global), so
// the kernel model sees what Linux sees. A destination with host bits set is rejected here as the kernel does
// (EINVAL). Limits: no multipath (`nexthop`), no `from`, `tos`, realms or metrics other than mtu and advmss.

import type { Cidr, Ipv4 } from '../../wire/addr.js';
import type { AddrScope, RouteCmd, RouteOp, RouteType } from '../types.js';
import {
  RT_TABLE_DEFAULT,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
  RTPROT_BOOT,
  RTPROT_KERNEL,
  RTPROT_STATIC,
} from '../types.js';
import type { Args } from './args.js';
import type { Where } from './dispatch.js';
import { accepted, keywords, lookup, lookupOption, nextKeyword } from './keywords.js';
import type { Token } from './tokenize.js';
import { devName, ipv4, routePrefix, uint } from './values.js';

const VERBS = keywords(
  'add',
  'change',
  '=chg:change',
  'replace',
  '!prepend',
  'append',
  '!test',
  'delete:del',
  '!list',
  '!show',
  '!lst',
  '!get',
  '!flush',
  '!save',
  '!restore',
  '!showdump',
  '!help',
);

// iproute_modify() order.
const OPTS = keywords(
  '=src',
  '!=as',
  '=via',
  '!=from',
  '!=tos',
  '!dsfield',
  '!=expires',
  'metric',
  'priority:metric',
  '=preference:metric',
  '=scope',
  '=mtu',
  '!=hoplimit',
  '=advmss',
  '!reordering',
  '!=rtt',
  '!=rto_min',
  '!window',
  '!cwnd',
  '!initcwnd',
  '!initrwnd',
  '!features',
  '!quickack',
  '!congctl',
  '!rttvar',
  '!ssthresh',
  '!realms',
  '=onlink',
  '!=nexthop',
  '!=nhid',
  'protocol',
  'table',
  '!vrf',
  '=dev',
  '=oif:dev',
  '!pref',
  '!=encap',
  '!=ttl-propagate',
  '!fastopen_no_cookie',
  '=to',
  '!help',
);

// rtnl_rtntype_a2n() order.
const TYPES = keywords(
  '=local',
  '!=nat',
  '!broadcast',
  '!=brd',
  '!anycast',
  '!multicast',
  'prohibit',
  'unreachable',
  'blackhole',
  '!xresolve',
  'unicast',
  '!=throw',
);

const TABLES: Record<string, number> = { main: RT_TABLE_MAIN, local: RT_TABLE_LOCAL, default: RT_TABLE_DEFAULT };
const PROTOS: Record<string, number> = { kernel: RTPROT_KERNEL, boot: RTPROT_BOOT, static: RTPROT_STATIC };
const SCOPES: readonly AddrScope[] = ['global', 'link', 'host'];

export function parseIpRoute(args: Args, w: Where): RouteCmd {
  const { id } = nextKeyword(args, VERBS, { what: 'command', context: 'ip route' });
  return routeModify(args, w, id as RouteOp);
}

function looksLikePrefix(s: string): boolean {
  return /^[0-9]/.test(s) || /[./:]/.test(s) || s === 'default' || s === 'any' || s === 'all';
}

function routeModify(args: Args, w: Where, op: RouteOp): RouteCmd {
  const context = `ip route ${op === 'del' ? 'delete' : op}`;
  let dst: { tok: Token; cidr: Cidr } | undefined;
  let type: RouteType | undefined;
  let via: Ipv4 | undefined;
  let viaTok: Token | undefined;
  let dev: string | undefined;
  let onlink = false;
  let metric: number | undefined;
  let src: Ipv4 | undefined;
  let table: number | undefined;
  let protocol: number | undefined;
  let scope: AddrScope | undefined;
  let mtu: number | undefined;
  let advmss: number | undefined;

  while (!args.done) {
    const tok = args.next('an option');
    const k = lookupOption(args, OPTS, tok, context);
    if (k === undefined || k.id === 'to') {
      let t = k === undefined ? tok : args.next('a destination', tok);
      if (!/^[0-9]/.test(t.text)) {
        const ty = lookup(TYPES, t.text);
        if (ty !== undefined) {
          if (ty.unsupported) {
            args.fail(t, `route type '${ty.name}' is not supported; supported: ${accepted(TYPES)}`);
          }
          type = ty.id as RouteType;
          t = args.next('a destination', t);
        }
      }
      if (!looksLikePrefix(t.text)) {
        args.fail(t, `unknown option '${t.text}' for '${context}'; expected one of: ${accepted(OPTS)}`);
      }
      if (dst !== undefined) args.fail(t, `destination given twice (already '${dst.tok.text}')`);
      dst = { tok: t, cidr: routePrefix(args, t) };
      continue;
    }
    switch (k.id) {
      case 'src':
        src = ipv4(args, args.next('an address', tok), 'source address');
        break;
      case 'via': {
        if (viaTok !== undefined) args.fail(tok, "'via' given twice (multipath routes are not supported)");
        viaTok = tok;
        via = ipv4(args, args.next('a gateway address', tok), 'gateway address');
        break;
      }
      case 'metric':
        metric = uint(args, args.next('a metric', tok), 'metric');
        break;
      case 'scope': {
        const v = args.next('a scope', tok);
        if (!(SCOPES as readonly string[]).includes(v.text)) {
          args.fail(v, `invalid scope '${v.text}' (expected global, link or host)`);
        }
        scope = v.text as AddrScope;
        break;
      }
      case 'mtu':
        mtu = uint(args, lockless(args, args.next('an MTU', tok)), 'MTU');
        break;
      case 'advmss':
        advmss = uint(args, lockless(args, args.next('an MSS', tok)), 'advmss');
        break;
      case 'onlink':
        onlink = true;
        break;
      case 'protocol': {
        const v = args.next('a protocol', tok);
        protocol = PROTOS[v.text] ?? named(args, v, 'protocol', 'kernel, boot, static or 0-255', 255);
        break;
      }
      case 'table': {
        const v = args.next('a table', tok);
        table = Object.hasOwn(TABLES, v.text)
          ? TABLES[v.text]!
          : named(args, v, 'table', 'main, local, default or a number');
        break;
      }
      case 'dev':
        dev = devName(args, args.next('a device name', tok));
        break;
    }
  }

  if (dst === undefined) args.fail(args.last, `missing destination in '${context}' (PREFIX or default)`);

  const del = op === 'del';
  const effectiveType: RouteType | undefined = type ?? (del ? undefined : 'unicast');
  const cmd: RouteCmd = {
    kind: 'routeAdd',
    op,
    ns: w.ns,
    pos: w.pos,
    dst: dst.cidr,
    onlink,
    table: table ?? (effectiveType === 'local' ? RT_TABLE_LOCAL : RT_TABLE_MAIN),
  };
  if (effectiveType !== undefined) cmd.type = effectiveType;
  if (via !== undefined) cmd.via = via;
  if (dev !== undefined) cmd.dev = dev;
  if (metric !== undefined) cmd.metric = metric;
  if (src !== undefined) cmd.src = src;
  const proto = protocol ?? (del ? undefined : RTPROT_BOOT);
  if (proto !== undefined) cmd.protocol = proto;
  const sc = scope ?? defaultScope(effectiveType, via !== undefined, del);
  if (sc !== undefined) cmd.scope = sc;
  if (mtu !== undefined) cmd.mtu = mtu;
  if (advmss !== undefined) cmd.advmss = advmss;
  return cmd;
}

/** iproute_modify()'s scope when none is given: host for local routes, link for a unicast route without gateway. */
/** For a delete, no scope (RT_SCOPE_NOWHERE) matches any route, except that local routes get host scope. */
function defaultScope(type: RouteType | undefined, gateway: boolean, del: boolean): AddrScope | undefined {
  if (type === 'local') return 'host';
  if (del) return undefined;
  if (type === 'unicast' && !gateway) return 'link';
  return 'global';
}

function lockless(args: Args, t: Token): Token {
  if (t.text === 'lock') args.fail(t, "'lock' is not supported");
  return t;
}

function named(args: Args, t: Token, what: string, expected: string, max = 0xffffffff): number {
  if (!/^(0|[1-9][0-9]*)$/.test(t.text) || Number(t.text) > max) {
    args.fail(t, `invalid ${what} '${t.text}' (expected ${expected})`);
  }
  return Number(t.text);
}
