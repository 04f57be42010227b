// `-m udp` (xt_tcpudp): source and destination port ranges, invertible; loaded implicitly by `-p udp --dport …`.
// Never matches a non-first fragment. The port fields are public for rule indexes.

import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { parsePortRange } from '../values.js';
import { ANY_PORT, type PortRange, portInRange, printPorts, savePorts } from './ports.js';
import { requireProto } from './tcp.js';

export class UdpMatch implements Match {
  readonly name = 'udp';
  /** The destination port when the rule names exactly one (null for a range or none). */
  readonly dport: number | null;
  readonly dportInv: boolean;
  readonly sport: number | null;
  readonly sportInv: boolean;

  constructor(
    readonly spts: PortRange,
    readonly dpts: PortRange,
  ) {
    this.dport = dpts.lo === dpts.hi ? dpts.lo : null;
    this.dportInv = dpts.inv;
    this.sport = spts.lo === spts.hi ? spts.lo : null;
    this.sportInv = spts.inv;
  }

  matches(ctx: PacketCtx): boolean {
    if (ctx.fragment || ctx.proto !== 17) return false;
    return portInRange(this.spts, ctx.sport) && portInRange(this.dpts, ctx.dport);
  }

  save(): string {
    return `-m udp${savePorts('sport', this.spts)}${savePorts('dport', this.dpts)}`;
  }

  print(numeric: boolean): string {
    return `udp${printPorts('spt', this.spts, 'udp', numeric)}${printPorts('dpt', this.dpts, 'udp', numeric)}`;
  }
}

export const udpModule: MatchModule = {
  name: 'udp',
  options: [
    { name: 'sport', args: 1, invert: true, aliases: ['source-port'] },
    { name: 'dport', args: 1, invert: true, aliases: ['destination-port'] },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let spts = ANY_PORT;
    let dpts = ANY_PORT;
    return {
      parse(opt, inv, values) {
        const [lo, hi] = parsePortRange(values[0]!, 17);
        if (opt.name === 'sport') spts = { lo, hi, inv };
        else dpts = { lo, hi, inv };
      },
      finish(env, at) {
        requireProto(env, at, 17, "UDP match requires '-p udp'");
      },
      create() {
        return new UdpMatch(spts, dpts);
      },
    };
  },
};
