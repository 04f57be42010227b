// Targets of the raw table: NOTRACK and `CT --notrack` exempt a packet from connection tracking (env.notrack);
// TRACE marks it for rule-by-rule tracing (env.trace). All continue with the next rule. The kernel allows them in
// the raw table only (xt_CT, xt_TRACE). CT's other options (zones, helpers, timeouts, events) are not modelled and
// are refused; a bare `-j CT` is accepted and does nothing, as a CT template with default settings.

import { failAt } from '../args.js';
import type { ExtParser, RuleEnv, TargetModule } from '../ext.js';
import type { PacketCtx, TableName, Target, TargetResult } from '../types.js';

const RAW: readonly TableName[] = ['raw'];
const CONTINUE: TargetResult = { kind: 'continue' };

export class NotrackTarget implements Target {
  readonly tables = RAW;
  readonly listName = 'CT';

  constructor(
    /** `NOTRACK`, or `CT` for `-j CT [--notrack]`. */
    readonly name: 'NOTRACK' | 'CT',
    readonly notrack: boolean,
  ) {}

  run(ctx: PacketCtx): TargetResult {
    if (this.notrack) ctx.env.notrack();
    return CONTINUE;
  }

  save(): string {
    if (this.name === 'NOTRACK') return '-j NOTRACK';
    return this.notrack ? '-j CT --notrack' : '-j CT';
  }

  print(): string {
    if (this.name === 'NOTRACK') return 'NOTRACK';
    return this.notrack ? 'CT notrack' : 'CT';
  }
}

export class TraceTarget implements Target {
  readonly name = 'TRACE';
  readonly tables = RAW;

  run(ctx: PacketCtx): TargetResult {
    ctx.env.trace();
    return CONTINUE;
  }

  save(): string {
    return '-j TRACE';
  }

  print(): string {
    return '';
  }
}

const CT_UNSUPPORTED = ['helper', 'ctevents', 'expevents', 'zone', 'zone-orig', 'zone-reply', 'timeout'];

export const notrackModule: TargetModule = {
  name: 'NOTRACK',
  options: [],
  parser(_env: RuleEnv): ExtParser<Target> {
    return { parse() {}, finish() {}, create: () => new NotrackTarget('NOTRACK', true) };
  },
};

export const ctModule: TargetModule = {
  name: 'CT',
  options: [{ name: 'notrack', args: 0 }, ...CT_UNSUPPORTED.map((name) => ({ name, args: 1 as const }))],
  parser(_env: RuleEnv): ExtParser<Target> {
    let notrack = false;
    return {
      parse(opt, _inv, _values, tok) {
        if (opt.name !== 'notrack') failAt(tok, `CT: option "--${opt.name}" is not supported (only --notrack)`);
        notrack = true;
      },
      finish() {},
      create: () => new NotrackTarget('CT', notrack),
    };
  },
};

export const traceModule: TargetModule = {
  name: 'TRACE',
  options: [],
  parser(_env: RuleEnv): ExtParser<Target> {
    return { parse() {}, finish() {}, create: () => new TraceTarget() };
  },
};
