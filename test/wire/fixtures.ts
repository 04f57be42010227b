// Loads the frames captured from real Linux by tools/capture-wire-fixtures.sh, together with what tcpdump printed
// and what tshark dissected for each of them.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Fixture {
  file: string;
  name: string;
  note: string;
  bytes: Uint8Array;
  /** `tcpdump -n -t -S` output for the frame (VXLAN's inner frame on a second line). */
  tcpdump: string;
  /** The tcpdump options that printed it (the 8472 capture needs `-T vxlan`: tcpdump reads that port as OTV). */
  tcpdumpOptions: string;
  /** Every "proto.field" tshark reported, values in dissection order (outer headers first). */
  tshark: Record<string, string[]>;
}

interface RawFixture {
  name: string;
  hex: string;
  note: string;
  tcpdump: string;
  tcpdumpOptions: string;
  tshark: Record<string, string[]>;
}

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'wire');

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function loadFixtures(): Fixture[] {
  const files = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const all: Fixture[] = [];
  for (const file of files) {
    const raw = JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) as RawFixture[];
    for (const r of raw) {
      all.push({
        file,
        name: r.name,
        note: r.note,
        bytes: fromHex(r.hex),
        tcpdump: r.tcpdump,
        tcpdumpOptions: r.tcpdumpOptions,
        tshark: r.tshark,
      });
    }
  }
  return all;
}

/**
 * Hands out tshark's values field by field in dissection order: the n-th time a field is taken, its n-th
 * occurrence comes back. Walking the headers in the order tshark dissected them keeps every field aligned with
 * the header it belongs to, including the headers quoted inside ICMP errors and carried inside VXLAN.
 */
export class TsharkCursor {
  private readonly used = new Map<string, number>();

  constructor(private readonly fields: Record<string, string[]>) {}

  take(field: string): string {
    const i = this.used.get(field) ?? 0;
    const v = this.fields[field]?.[i];
    if (v === undefined) throw new Error(`tshark has no occurrence ${i} of ${field}`);
    this.used.set(field, i + 1);
    return v;
  }

  num(field: string): number {
    const v = this.take(field);
    return v.startsWith('0x') ? Number.parseInt(v, 16) : Number(v);
  }

  has(field: string): boolean {
    return (this.fields[field]?.length ?? 0) > (this.used.get(field) ?? 0);
  }

  /** Fields whose occurrences were not all taken. */
  leftover(fields: string[]): string[] {
    return fields.filter((f) => (this.fields[f]?.length ?? 0) !== (this.used.get(f) ?? 0));
  }
}
