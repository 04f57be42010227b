// The error every part of the netfilter rule language raises: iptables' wording (`iptables: Chain already exists.`,
// `Bad argument `x'`, `iptables-restore: line 5 failed`) plus, when the text came from a file or a scenario, the
// line and column of the offending word. The scenario layer turns it into a ScenarioError at that position.

import type { SrcPos } from './types.js';

export class IptablesError extends Error {
  override readonly name = 'IptablesError';

  constructor(
    message: string,
    /** The word the problem is about; absent when the whole command or document is at fault. */
    readonly pos?: SrcPos,
  ) {
    super(message);
  }

  override toString(): string {
    const p = this.pos;
    return p ? `${p.file}:${p.line}:${p.col}: ${this.message}` : this.message;
  }
}
