// NodePort allocation from --service-node-port-range (default 30000-32767) as the API server's portallocator does
// it: a static band at the bottom of the range — min(max(16, size/32), 128) ports — kept for node ports users ask
// for by value, automatic allocation at a random free port of the upper band first (allocator/bitmap.ts). The same
// allocator hands out healthCheckNodePorts. Errors carry upstream's text: "provided port is already allocated",
// "provided port is not in the valid range. The range of valid ports is 30000-32767", "range is full".

import type { Rng } from '../../sim/rng.js';
import { AllocationBitmap } from './bitmap.js';
import { AllocationError, ERR_FULL } from './clusterip.js';

export const ERR_PORT_ALLOCATED = 'provided port is already allocated';

export interface PortRange {
  base: number;
  size: number;
}

/** utilnet.ParsePortRange: `30000-32767`, or a single port. */
export function parsePortRange(text: string): PortRange {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  const lo = m ? Number(m[1]) : Number.NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!(lo >= 0 && hi <= 65535 && hi >= lo)) throw new RangeError(`invalid port range "${text}"`);
  return { base: lo, size: hi - lo + 1 };
}

export function formatPortRange(r: PortRange): string {
  return r.size === 0 ? '' : `${r.base}-${r.base + r.size - 1}`;
}

/** min(max(16, size/32), 128), or 0 for ranges of 16 ports or fewer. */
export function portRangeOffset(size: number): number {
  if (size <= 16) return 0;
  return Math.min(Math.max(16, Math.floor(size / 32)), 128);
}

export class NodePortAllocator {
  readonly range: PortRange;
  private readonly bitmap: AllocationBitmap;

  constructor(range: string | PortRange, rng: Rng) {
    this.range = typeof range === 'string' ? parsePortRange(range) : range;
    this.bitmap = new AllocationBitmap(this.range.size, portRangeOffset(this.range.size), rng);
  }

  toString(): string {
    return formatPortRange(this.range);
  }

  contains(port: number): boolean {
    return port >= this.range.base && port < this.range.base + this.range.size;
  }

  has(port: number): boolean {
    return this.contains(port) && this.bitmap.has(port - this.range.base);
  }

  allocate(port: number): void {
    if (!this.contains(port)) {
      throw new AllocationError(
        `provided port is not in the valid range. The range of valid ports is ${this.toString()}`,
      );
    }
    if (!this.bitmap.allocate(port - this.range.base)) throw new AllocationError(ERR_PORT_ALLOCATED);
  }

  allocateNext(): number {
    const off = this.bitmap.allocateNext();
    if (off === undefined) throw new AllocationError(ERR_FULL);
    return this.range.base + off;
  }

  release(port: number): void {
    if (this.contains(port)) this.bitmap.release(port - this.range.base);
  }

  get used(): number {
    return this.bitmap.used;
  }

  get staticBand(): number {
    return this.bitmap.offset;
  }
}
