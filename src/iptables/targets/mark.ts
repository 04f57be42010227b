// `-j MARK` (xt_MARK revision 2) sets the packet mark, `-j CONNMARK` (xt_CONNMARK revision 1) the connection's mark
// or copies between the two. Every form is kept as the kernel keeps it — MARK as (mark & ~mask) ^ value, saved
// as `--set-xmark VALUE/MASK`; CONNMARK as set/save/restore with its masks — so `--or-mark 0x4000` saves as
// `--set-xmark 0x4000/0x4000`, exactly as iptables-save prints it. Both continue with the next rule.

import type { Arg } from '../args.js';
import { failAt } from '../args.js';
import { conflict, type ExtParser, type RuleEnv, type TargetModule } from '../ext.js';
import type { PacketCtx, Target, TargetResult } from '../types.js';
import { hex, parseMarkMask, parseUint } from '../values.js';

const CONTINUE: TargetResult = { kind: 'continue' };

function markMask(v: Arg, mod: string, opt: string): { value: number; mask: number } {
  const m = parseMarkMask(v.text);
  if (m === null) failAt(v, `${mod}: bad value for option "--${opt}", or out of range.`);
  return m;
}

function u32(v: Arg, mod: string, opt: string): number {
  const n = parseUint(v.text, 0, 0xffffffff);
  if (n === null) failAt(v, `${mod}: bad value for option "--${opt}", or out of range (0-4294967295).`);
  return n;
}

export class MarkTarget implements Target {
  readonly name = 'MARK';

  constructor(
    readonly mark: number,
    readonly mask: number,
  ) {}

  run(ctx: PacketCtx): TargetResult {
    ctx.skb.mark = ((ctx.skb.mark & ~this.mask) ^ this.mark) >>> 0;
    return CONTINUE;
  }

  save(): string {
    return `-j MARK --set-xmark ${hex(this.mark)}/${hex(this.mask)}`;
  }

  print(): string {
    const { mark, mask } = this;
    if (mark === 0) return `MARK and ${hex(~mask)}`;
    if (mark === mask) return `MARK or ${hex(mark)}`;
    if (mask === 0) return `MARK xor ${hex(mark)}`;
    if (mask === 0xffffffff) return `MARK set ${hex(mark)}`;
    return `MARK xset ${hex(mark)}/${hex(mask)}`;
  }
}

const MARK_OPS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'];

export const markTargetModule: TargetModule = {
  name: 'MARK',
  options: MARK_OPS.map((name) => ({ name, args: 1 as const })),
  parser(_env: RuleEnv): ExtParser<Target> {
    let op: string | null = null;
    let mark = 0;
    let mask = 0;
    return {
      parse(opt, _inv, values, tok) {
        if (op !== null) conflict(tok, 'MARK', op, opt.name);
        op = opt.name;
        const v = values[0]!;
        switch (opt.name) {
          case 'set-xmark': {
            const m = markMask(v, 'MARK', opt.name);
            mark = m.value;
            mask = m.mask;
            break;
          }
          case 'set-mark': {
            const m = markMask(v, 'MARK', opt.name);
            mark = m.value;
            mask = (m.value | m.mask) >>> 0;
            break;
          }
          case 'and-mark':
            mark = 0;
            mask = ~u32(v, 'MARK', opt.name) >>> 0;
            break;
          case 'or-mark':
            mark = mask = u32(v, 'MARK', opt.name);
            break;
          case 'xor-mark':
            mark = u32(v, 'MARK', opt.name);
            mask = 0;
            break;
        }
      },
      finish(_e, at) {
        if (op === null) failAt(at, 'MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required');
      },
      create() {
        return new MarkTarget(mark, mask);
      },
    };
  },
};

type ConnmarkMode = 'set' | 'save' | 'restore';

export class ConnmarkTarget implements Target {
  readonly name = 'CONNMARK';

  constructor(
    readonly mode: ConnmarkMode,
    readonly ctmark: number,
    readonly ctmask: number,
    readonly nfmask: number,
  ) {}

  run(ctx: PacketCtx): TargetResult {
    const ct = ctx.ct;
    if (ct === null) return CONTINUE;
    if (this.mode === 'set') ct.mark = ((ct.mark & ~this.ctmask) ^ this.ctmark) >>> 0;
    else if (this.mode === 'save') ct.mark = ((ct.mark & ~this.ctmask) ^ (ctx.skb.mark & this.nfmask)) >>> 0;
    else ctx.skb.mark = ((ctx.skb.mark & ~this.nfmask) ^ (ct.mark & this.ctmask)) >>> 0;
    return CONTINUE;
  }

  save(): string {
    if (this.mode === 'set') return `-j CONNMARK --set-xmark ${hex(this.ctmark)}/${hex(this.ctmask)}`;
    return `-j CONNMARK --${this.mode}-mark --nfmask ${hex(this.nfmask)} --ctmask ${hex(this.ctmask)}`;
  }

  print(): string {
    const { ctmark, ctmask, nfmask } = this;
    const all = 0xffffffff;
    if (this.mode === 'set') {
      if (ctmark === 0) return `CONNMARK and ${hex(~ctmask)}`;
      if (ctmark === ctmask) return `CONNMARK or ${hex(ctmark)}`;
      if (ctmask === 0) return `CONNMARK xor ${hex(ctmark)}`;
      if (ctmask === all) return `CONNMARK set ${hex(ctmark)}`;
      return `CONNMARK xset ${hex(ctmark)}/${hex(ctmask)}`;
    }
    if (this.mode === 'save') {
      if (nfmask === all && ctmask === all) return 'CONNMARK save';
      if (nfmask === ctmask) return `CONNMARK save mask ${hex(nfmask)}`;
      return `CONNMARK save nfmask ${hex(nfmask)} ctmask ~${hex(ctmask)}`;
    }
    if (ctmask === all && nfmask === all) return 'CONNMARK restore';
    if (ctmask === nfmask) return `CONNMARK restore mask ${hex(ctmask)}`;
    return `CONNMARK restore ctmask ${hex(ctmask)} nfmask ~${hex(nfmask)}`;
  }
}

const CONNMARK_OPS = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark', 'save-mark', 'restore-mark'];

export const connmarkTargetModule: TargetModule = {
  name: 'CONNMARK',
  options: [
    ...CONNMARK_OPS.map((name) => ({ name, args: (name.endsWith('e-mark') ? 0 : 1) as 0 | 1 })),
    { name: 'mask', args: 1 },
    { name: 'nfmask', args: 1 },
    { name: 'ctmask', args: 1 },
  ],
  parser(_env: RuleEnv): ExtParser<Target> {
    let op: string | null = null;
    let mode: ConnmarkMode = 'set';
    let ctmark = 0;
    let ctmask = 0xffffffff;
    let nfmask = 0xffffffff;
    return {
      parse(opt, _inv, values, tok) {
        const v = values[0];
        if (CONNMARK_OPS.includes(opt.name)) {
          if (op !== null) conflict(tok, 'CONNMARK', op, opt.name);
          op = opt.name;
        }
        switch (opt.name) {
          case 'set-xmark': {
            const m = markMask(v!, 'CONNMARK', opt.name);
            mode = 'set';
            ctmark = m.value;
            ctmask = m.mask;
            break;
          }
          case 'set-mark': {
            const m = markMask(v!, 'CONNMARK', opt.name);
            mode = 'set';
            ctmark = m.value;
            ctmask = (m.value | m.mask) >>> 0;
            break;
          }
          case 'and-mark':
            mode = 'set';
            ctmark = 0;
            ctmask = ~u32(v!, 'CONNMARK', opt.name) >>> 0;
            break;
          case 'or-mark':
            mode = 'set';
            ctmark = ctmask = u32(v!, 'CONNMARK', opt.name);
            break;
          case 'xor-mark':
            mode = 'set';
            ctmark = u32(v!, 'CONNMARK', opt.name);
            ctmask = 0;
            break;
          case 'save-mark':
            mode = 'save';
            break;
          case 'restore-mark':
            mode = 'restore';
            break;
          case 'mask':
            nfmask = ctmask = u32(v!, 'CONNMARK', opt.name);
            break;
          case 'nfmask':
            nfmask = u32(v!, 'CONNMARK', opt.name);
            break;
          case 'ctmask':
            ctmask = u32(v!, 'CONNMARK', opt.name);
            break;
        }
      },
      finish(_e, at) {
        if (op === null) failAt(at, 'CONNMARK target: No operation specified');
      },
      create() {
        return new ConnmarkTarget(mode, ctmark, ctmask, nfmask);
      },
    };
  },
};
