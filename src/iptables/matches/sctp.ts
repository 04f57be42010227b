// `-m sctp` (xt_sctp): source and destination port ranges of the SCTP common header, invertible, as kube-proxy
// writes them for SCTP Services (`-m sctp -p sctp --dport 53`). Never matches a non-first fragment. Saved and
// listed like the udp match (`-m sctp --dport 53`, `sctp dpt:53`), with numbers only (no service names).
// Limits: --chunk-types is not modelled (refused as an unknown option); the port fields are public for indexes.

import type { ExtParser, MatchModule, RuleEnv } from '../ext.js';
import type { Match, PacketCtx } from '../types.js';
import { parsePortRange, portRangeText } from '../values.js';
import { ANY_PORT, isAnyPort, type PortRange, portInRange, savePorts } from './ports.js';
import { requireProto } from './tcp.js';

const IPPROTO_SCTP = 132;

function printSctpPorts(name: string, r: PortRange): string {
  if (isAnyPort(r) && !r.inv) return '';
  const inv = r.inv ? '!' : '';
  return r.lo === r.hi ? ` ${name}:${inv}${r.lo}` : ` ${name}s:${inv}${portRangeText(r.lo, r.hi)}`;
}

export class SctpMatch implements Match {
  readonly name = 'sctp';
  readonly dport: number | null;
  readonly dportInv: boolean;

  constructor(
    readonly spts: PortRange,
    readonly dpts: PortRange,
  ) {
    this.dport = dpts.lo === dpts.hi ? dpts.lo : null;
    this.dportInv = dpts.inv;
  }

  matches(ctx: PacketCtx): boolean {
    if (ctx.fragment || ctx.proto !== IPPROTO_SCTP) return false;
    return portInRange(this.spts, ctx.sport) && portInRange(this.dpts, ctx.dport);
  }

  save(): string {
    return `-m sctp${savePorts('sport', this.spts)}${savePorts('dport', this.dpts)}`;
  }

  print(): string {
    return `sctp${printSctpPorts('spt', this.spts)}${printSctpPorts('dpt', this.dpts)}`;
  }
}

export const sctpModule: MatchModule = {
  name: 'sctp',
  options: [
    { name: 'sport', args: 1, invert: true, aliases: ['source-port'] },
    { name: 'dport', args: 1, invert: true, aliases: ['destination-port'] },
  ],
  parser(_env: RuleEnv): ExtParser<Match> {
    let spts = ANY_PORT;
    let dpts = ANY_PORT;
    return {
      parse(opt, inv, values) {
        const [lo, hi] = parsePortRange(values[0]!, IPPROTO_SCTP);
        if (opt.name === 'sport') spts = { lo, hi, inv };
        else dpts = { lo, hi, inv };
      },
      finish(env, at) {
        requireProto(env, at, IPPROTO_SCTP, "SCTP match requires '-p sctp'");
      },
      create() {
        return new SctpMatch(spts, dpts);
      },
    };
  },
};
