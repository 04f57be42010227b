// The verdicts ACCEPT, DROP and RETURN, and jumps to user chains: `-j CHAIN` (return here when CHAIN ends) and
// `-g CHAIN` (goto: CHAIN's end returns to the caller of this chain). Whether the chain exists is checked when the
// table is committed, as the kernel checks it.

import type { Target, TargetResult } from '../types.js';

const ACCEPT: TargetResult = { kind: 'accept' };
const DROP: TargetResult = { kind: 'drop' };
const RETURN: TargetResult = { kind: 'return' };

export const STANDARD_VERDICTS = ['ACCEPT', 'DROP', 'RETURN'] as const;
export type StandardVerdict = (typeof STANDARD_VERDICTS)[number];

export class VerdictTarget implements Target {
  private readonly result: TargetResult;

  constructor(readonly name: StandardVerdict) {
    this.result = name === 'ACCEPT' ? ACCEPT : name === 'DROP' ? DROP : RETURN;
  }

  run(): TargetResult {
    return this.result;
  }

  save(): string {
    return `-j ${this.name}`;
  }

  print(): string {
    return '';
  }
}

export class JumpTarget implements Target {
  readonly jumpTo: string;
  private readonly result: TargetResult;

  constructor(
    readonly name: string,
    readonly goto: boolean,
  ) {
    this.jumpTo = name;
    this.result = goto ? { kind: 'goto', chain: name } : { kind: 'jump', chain: name };
  }

  run(): TargetResult {
    return this.result;
  }

  save(): string {
    return `${this.goto ? '-g' : '-j'} ${this.name}`;
  }

  print(): string {
    return '';
  }
}
