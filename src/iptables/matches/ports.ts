// Port ranges as the tcp and udp matches keep, save and list them (libxt_tcp/libxt_udp): `--sport 80`,
// `--dport 1000:2000`, listed as `spt:80`, `dpts:!1000:2000`, with service names unless `-n`.

import { serviceName } from '../protocols.js';
import { portRangeText } from '../values.js';

export interface PortRange {
  lo: number;
  hi: number;
  inv: boolean;
}

export const ANY_PORT: PortRange = { lo: 0, hi: 0xffff, inv: false };

export function isAnyPort(r: PortRange): boolean {
  return r.lo === 0 && r.hi === 0xffff;
}

export function portInRange(r: PortRange, port: number): boolean {
  return (port >= r.lo && port <= r.hi) !== r.inv;
}

/** ` --sport 80` / ` ! --dport 1:2`, nothing for the full range. */
export function savePorts(opt: string, r: PortRange): string {
  if (isAnyPort(r)) return '';
  return `${r.inv ? ' !' : ''} --${opt} ${portRangeText(r.lo, r.hi)}`;
}

function portName(port: number, proto: 'tcp' | 'udp', numeric: boolean): string {
  return (!numeric && serviceName(port, proto)) || String(port);
}

/** ` spt:80`, ` dpts:!1:2`, nothing for an uninverted full range. */
export function printPorts(name: string, r: PortRange, proto: 'tcp' | 'udp', numeric: boolean): string {
  if (isAnyPort(r) && !r.inv) return '';
  const inv = r.inv ? '!' : '';
  if (r.lo === r.hi) return ` ${name}:${inv}${portName(r.lo, proto, numeric)}`;
  return ` ${name}s:${inv}${portName(r.lo, proto, numeric)}:${portName(r.hi, proto, numeric)}`;
}
