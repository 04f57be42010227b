// What other modules need from the command parsers: the entry points, and the pieces an extension uses to add
// a program (`registerCommand`, the `Args` cursor, keyword tables with iproute2's abbreviation rule, value
// checkers that fail at the offending word).

export { Args } from './args.js';
export type { CommandContext, CommandParser, Where } from './dispatch.js';
export { dispatch, isRegistered, registerCommand } from './dispatch.js';
export { globalOptions, ROOT_NS } from './ip.js';
export type { Keyword, KeywordContext } from './keywords.js';
export { accepted, keywords, lookup, matches, nextKeyword, resolve } from './keywords.js';
export { parseCommand, parseCommandLine, parseCommands } from './parse.js';
export { normaliseSysctlKey } from './sysctl.js';
export type { CommandLine, CommandSource, Token } from './tokenize.js';
export { lineLocator, posAt, textSource, tokenize } from './tokenize.js';
export { cidr, devName, IPV6_UNSUPPORTED, ipv4, mac, netnsName, onOff, routePrefix, uint } from './values.js';
