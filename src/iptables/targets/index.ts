// Registers every target module of the rule language; importing this module makes them usable with `-j NAME`.
// ACCEPT, DROP, RETURN and chain jumps are built into the rule parser.

import { registerTarget } from '../ext.js';
import { logModule } from './log.js';
import { connmarkTargetModule, markTargetModule } from './mark.js';
import { dnatModule, masqueradeModule, redirectModule, snatModule } from './nat.js';
import { ctModule, notrackModule, traceModule } from './raw.js';
import { rejectModule } from './reject.js';

for (const t of [
  rejectModule,
  logModule,
  markTargetModule,
  connmarkTargetModule,
  dnatModule,
  snatModule,
  masqueradeModule,
  redirectModule,
  notrackModule,
  ctModule,
  traceModule,
]) {
  registerTarget(t);
}
