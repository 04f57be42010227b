// `-j REJECT [--reject-with TYPE]` (ipt_REJECT): answers with an ICMP destination-unreachable of the given code or
// a TCP reset, then drops the packet. Valid only in the filter table's INPUT, FORWARD and OUTPUT (and chains
// reached from them); tcp-reset needs `-p tcp`. Type names may be abbreviated, as libipt_REJECT accepts.

import type { NfHook } from '../../netns/hooks.js';
import { failAt } from '../args.js';
import type { ExtParser, RuleEnv, TargetModule } from '../ext.js';
import type { PacketCtx, RejectWith, TableName, Target, TargetResult } from '../types.js';

const TYPES: readonly [RejectWith, string][] = [
  ['icmp-net-unreachable', 'net-unreach'],
  ['icmp-host-unreachable', 'host-unreach'],
  ['icmp-proto-unreachable', 'proto-unreach'],
  ['icmp-port-unreachable', 'port-unreach'],
  ['icmp-net-prohibited', 'net-prohib'],
  ['icmp-host-prohibited', 'host-prohib'],
  ['tcp-reset', 'tcp-rst'],
  ['icmp-admin-prohibited', 'admin-prohib'],
];

const TABLES: readonly TableName[] = ['filter'];
const HOOKS: readonly NfHook[] = ['INPUT', 'FORWARD', 'OUTPUT'];

export class RejectTarget implements Target {
  readonly name = 'REJECT';
  readonly tables = TABLES;
  readonly hooks = HOOKS;

  constructor(readonly with_: RejectWith) {}

  run(ctx: PacketCtx): TargetResult {
    ctx.env.reject(this.with_);
    return { kind: 'drop' };
  }

  save(): string {
    return `-j REJECT --reject-with ${this.with_}`;
  }

  print(): string {
    return `reject-with ${this.with_}`;
  }
}

export const rejectModule: TargetModule = {
  name: 'REJECT',
  options: [{ name: 'reject-with', args: 1 }],
  parser(_env: RuleEnv): ExtParser<Target> {
    let kind: RejectWith = 'icmp-port-unreachable';
    return {
      parse(_opt, _inv, values) {
        const v = values[0]!;
        const t = v.text.toLowerCase();
        const hit = t === '' ? undefined : TYPES.find(([name, alias]) => name.startsWith(t) || alias.startsWith(t));
        if (hit === undefined) failAt(v, `unknown reject type "${v.text}"`);
        kind = hit[0];
      },
      finish(env, at) {
        if (kind === 'tcp-reset' && (env.proto === null || env.proto.num !== 6 || env.proto.inv)) {
          failAt(at, 'iptables: Invalid argument (ip_tables: REJECT target: TCP_RESET invalid for non-tcp)');
        }
      },
      create() {
        return new RejectTarget(kind);
      },
    };
  },
};
