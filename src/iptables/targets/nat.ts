// The NAT targets (xt_nat, MASQUERADE, REDIRECT), valid only in the nat table: DNAT (PREROUTING, OUTPUT) and SNAT
// (POSTROUTING, INPUT) with `--to-destination|--to-source IP[-IP][:PORT[-PORT]]`, MASQUERADE (POSTROUTING) and
// REDIRECT (PREROUTING, OUTPUT) with `--to-ports PORT[-PORT]`, plus --random, --random-fully and --persistent.
// Ports need `-p tcp|udp|sctp|dccp`. Running one asks the engine to bind the connection (env.nat) and accepts or
// drops on its answer. Limits: one range per rule (no shifted `/base` port ranges).

import type { NfHook } from '../../netns/hooks.js';
import { type Arg, failAt } from '../args.js';
import { type ExtParser, mustSpecify, type OptionSpec, type RuleEnv, type TargetModule } from '../ext.js';
import type { NatKind, NatRange, PacketCtx, TableName, Target, TargetResult } from '../types.js';
import { ipStr, parseIpv4Loose, parsePort } from '../values.js';

const NAT_TABLE: readonly TableName[] = ['nat'];
const HOOKS: Record<NatKind, readonly NfHook[]> = {
  DNAT: ['PREROUTING', 'OUTPUT'],
  SNAT: ['POSTROUTING', 'INPUT'],
  MASQUERADE: ['POSTROUTING'],
  REDIRECT: ['PREROUTING', 'OUTPUT'],
};
const PORT_PROTOS = new Set([6, 17, 33, 132]);

function emptyRange(): NatRange {
  return {
    minIp: 0,
    maxIp: 0,
    minPort: 0,
    maxPort: 0,
    mapIps: false,
    mapPorts: false,
    random: false,
    randomFully: false,
    persistent: false,
  };
}

function portsOk(env: RuleEnv): boolean {
  return env.proto !== null && !env.proto.inv && PORT_PROTOS.has(env.proto.num);
}

/** `PORT[-PORT]` as the NAT targets read it. */
function parsePorts(at: Arg, text: string, proto: number | undefined): [number, number] {
  const dash = text.indexOf('-');
  const one = (t: string): number => {
    if (t === '') failAt(at, `Port \`${t}' not valid`);
    const p = parsePort(at, t, proto);
    if (p === 0) failAt(at, `Port \`${t}' not valid`);
    return p;
  };
  if (text.includes(':')) failAt(at, 'Invalid port:port syntax - use dash');
  const lo = one(dash < 0 ? text : text.slice(0, dash));
  const hi = dash < 0 ? lo : one(text.slice(dash + 1));
  if (hi < lo) failAt(at, `Port range \`${text.slice(dash + 1)}' funky`);
  return [lo, hi];
}

/** `IP[-IP][:PORT[-PORT]]` (parse_to in libxt_DNAT/SNAT). */
function parseTo(at: Arg, env: RuleEnv, r: NatRange): void {
  const t = at.text;
  const colon = t.indexOf(':');
  if (colon >= 0) {
    if (!portsOk(env)) failAt(at, 'Need TCP, UDP, SCTP or DCCP with port specification');
    [r.minPort, r.maxPort] = parsePorts(at, t.slice(colon + 1), env.proto?.num);
    r.mapPorts = true;
    if (colon === 0) return;
  }
  const ips = colon < 0 ? t : t.slice(0, colon);
  const dash = ips.indexOf('-');
  const a = parseIpv4Loose(dash < 0 ? ips : ips.slice(0, dash));
  if (a === null) failAt(at, `Bad IP address "${dash < 0 ? ips : ips.slice(0, dash)}"`);
  const b = dash < 0 ? a : parseIpv4Loose(ips.slice(dash + 1));
  if (b === null) failAt(at, `Bad IP address "${ips.slice(dash + 1)}"`);
  r.minIp = a;
  r.maxIp = b;
  r.mapIps = true;
}

function rangeText(r: NatRange): string {
  let s = '';
  if (r.mapIps) s += r.minIp === r.maxIp ? ipStr(r.minIp) : `${ipStr(r.minIp)}-${ipStr(r.maxIp)}`;
  if (r.mapPorts) s += `:${portsText(r)}`;
  return s;
}

function portsText(r: NatRange): string {
  return r.minPort === r.maxPort ? String(r.minPort) : `${r.minPort}-${r.maxPort}`;
}

function flagsText(r: NatRange, dashes: boolean): string {
  const d = dashes ? '--' : '';
  return `${r.random ? ` ${d}random` : ''}${r.randomFully ? ` ${d}random-fully` : ''}${r.persistent ? ` ${d}persistent` : ''}`;
}

export class NatTarget implements Target {
  readonly tables = NAT_TABLE;
  readonly hooks: readonly NfHook[];

  constructor(
    readonly name: NatKind,
    readonly range: NatRange,
  ) {
    this.hooks = HOOKS[name];
  }

  run(ctx: PacketCtx): TargetResult {
    return { kind: ctx.env.nat(this.name, this.range) };
  }

  save(): string {
    const r = this.range;
    switch (this.name) {
      case 'DNAT':
        return `-j DNAT --to-destination ${rangeText(r)}${flagsText(r, true)}`;
      case 'SNAT':
        return `-j SNAT --to-source ${rangeText(r)}${flagsText(r, true)}`;
      case 'MASQUERADE':
        return `-j MASQUERADE${r.mapPorts ? ` --to-ports ${portsText(r)}` : ''}${flagsText(r, true)}`;
      case 'REDIRECT':
        return `-j REDIRECT${r.mapPorts ? ` --to-ports ${portsText(r)}` : ''}${flagsText(r, true)}`;
    }
  }

  print(): string {
    const r = this.range;
    switch (this.name) {
      case 'DNAT':
      case 'SNAT':
        return `to:${rangeText(r)}${flagsText(r, false)}`;
      case 'MASQUERADE':
        return `${r.mapPorts ? `masq ports: ${portsText(r)}` : ''}${flagsText(r, false)}`.trim();
      case 'REDIRECT':
        return `${r.mapPorts ? `redir ports ${portsText(r)}` : ''}${flagsText(r, false)}`.trim();
    }
  }
}

function natModule(kind: NatKind, options: readonly OptionSpec[]): TargetModule {
  return {
    name: kind,
    options,
    parser(env: RuleEnv): ExtParser<Target> {
      const range = emptyRange();
      let to = false;
      return {
        parse(opt, _inv, values) {
          const v = values[0];
          switch (opt.name) {
            case 'to-destination':
            case 'to-source':
              parseTo(v!, env, range);
              to = true;
              break;
            case 'to-ports':
              if (!portsOk(env)) failAt(v, 'Need TCP, UDP, SCTP or DCCP with port specification');
              [range.minPort, range.maxPort] = parsePorts(v!, v!.text, env.proto?.num);
              range.mapPorts = true;
              break;
            case 'random':
              range.random = true;
              break;
            case 'random-fully':
              range.randomFully = true;
              break;
            case 'persistent':
              range.persistent = true;
              break;
          }
        },
        finish(_e, at) {
          if (kind === 'DNAT' && !to) mustSpecify(at, 'DNAT', 'to-destination');
          if (kind === 'SNAT' && !to) mustSpecify(at, 'SNAT', 'to-source');
        },
        create() {
          return new NatTarget(kind, { ...range });
        },
      };
    },
  };
}

export const dnatModule = natModule('DNAT', [
  { name: 'to-destination', args: 1 },
  { name: 'random', args: 0 },
  { name: 'persistent', args: 0 },
]);
export const snatModule = natModule('SNAT', [
  { name: 'to-source', args: 1 },
  { name: 'random', args: 0 },
  { name: 'random-fully', args: 0 },
  { name: 'persistent', args: 0 },
]);
export const masqueradeModule = natModule('MASQUERADE', [
  { name: 'to-ports', args: 1 },
  { name: 'random', args: 0 },
  { name: 'random-fully', args: 0 },
]);
export const redirectModule = natModule('REDIRECT', [
  { name: 'to-ports', args: 1 },
  { name: 'random', args: 0 },
]);
