// Registers every match module of the rule language; importing this module makes them loadable with `-m NAME`.

import { registerMatch } from '../ext.js';
import { addrtypeModule } from './addrtype.js';
import { commentModule } from './comment.js';
import { conntrackModule, stateModule } from './conntrack.js';
import { icmpModule } from './icmp.js';
import { limitModule } from './limit.js';
import { connmarkModuleDef, markModuleDef } from './mark.js';
import { iprangeModule, lengthModule, macModule } from './misc.js';
import { multiportModule } from './multiport.js';
import { nfacctModule } from './nfacct.js';
import { physdevModule } from './physdev.js';
import { recentModule } from './recent.js';
import { sctpModule } from './sctp.js';
import { statisticModule } from './statistic.js';
import { tcpModule } from './tcp.js';
import { udpModule } from './udp.js';

for (const m of [
  tcpModule,
  udpModule,
  sctpModule,
  icmpModule,
  multiportModule,
  commentModule,
  conntrackModule,
  stateModule,
  markModuleDef,
  connmarkModuleDef,
  addrtypeModule,
  statisticModule,
  recentModule,
  physdevModule,
  iprangeModule,
  limitModule,
  nfacctModule,
  macModule,
  lengthModule,
]) {
  registerMatch(m);
}
