// pcapng (draft-ietf-opsawg-pcapng) writer for a whole run: every device in every namespace in one file, which
// Wireshark shows with an interface name per frame and a direction flag. One Section Header Block (byte-order
// magic 0x1A2B3C4D, version 1.0, section length -1 = unknown, shb_userappl "podwire"); one Interface Description
// Block per device, written just before its first frame (if_name "<ns>/<dev>", if_tsresol 9 = nanoseconds, the
// device's link type and snap length); one Enhanced Packet Block per frame with the 64-bit nanosecond timestamp
// and epb_flags bits 0-1 = 01 inbound (rx) / 10 outbound (tx). Blocks are little-endian and streamed as frames come.
// Limits: a single section; devices that never carry a frame get no IDB; no name-resolution or statistics blocks.

import type { Nanos } from '../sim/events.js';
import { splitNanos } from './pcap.js';
import type { CaptureIface, CaptureSink } from './recorder.js';
import type { ByteSink } from './sink.js';

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 0x00000001;
export const BT_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const OPT_ENDOFOPT = 0;
export const OPT_SHB_USERAPPL = 4;
export const OPT_IF_NAME = 2;
export const OPT_IF_TSRESOL = 9;
export const OPT_EPB_FLAGS = 2;
export const EPB_FLAG_INBOUND = 1;
export const EPB_FLAG_OUTBOUND = 2;

const utf8 = new TextEncoder();
const pad4 = (n: number) => (n + 3) & ~3;

interface Option {
  code: number;
  value: Uint8Array;
}

function optionsLength(opts: readonly Option[]): number {
  if (opts.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const o of opts) n += 4 + pad4(o.value.length);
  return n;
}

/** Lays out `type | total length | body | options | total length` with the body already padded to 4 bytes. */
function block(type: number, body: Uint8Array, opts: readonly Option[]): Uint8Array {
  const total = 12 + body.length + optionsLength(opts);
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  b.set(body, 8);
  let off = 8 + body.length;
  if (opts.length > 0) {
    for (const o of opts) {
      v.setUint16(off, o.code, true);
      v.setUint16(off + 2, o.value.length, true);
      b.set(o.value, off + 4);
      off += 4 + pad4(o.value.length);
    }
    off += 4; // opt_endofopt: code 0, length 0, already zero
  }
  v.setUint32(off, total, true);
  return b;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export interface PcapngOptions {
  /** shb_userappl; "podwire" unless set. */
  userAppl?: string;
}

export class PcapngWriter implements CaptureSink {
  private readonly ifaces = new Map<number, CaptureIface>();
  /** Tracer interface id → index of its IDB in this section. */
  private readonly idbIndex = new Map<number, number>();
  private closed = false;

  constructor(
    private readonly out: ByteSink,
    opts: PcapngOptions = {},
  ) {
    const body = new Uint8Array(16);
    const v = new DataView(body.buffer);
    v.setUint32(0, BYTE_ORDER_MAGIC, true);
    v.setUint16(4, 1, true);
    v.setUint16(6, 0, true);
    v.setBigInt64(8, -1n, true);
    out.write(block(BT_SHB, body, [{ code: OPT_SHB_USERAPPL, value: utf8.encode(opts.userAppl ?? 'podwire') }]));
  }

  addInterface(iface: CaptureIface): void {
    this.ifaces.set(iface.id, iface);
  }

  frame(ifaceId: number, t: Nanos, data: Uint8Array, dir: 'rx' | 'tx'): void {
    if (this.closed) throw new Error('pcapng: frame after close');
    splitNanos(t); // same validity rules as classic pcap: whole, non-negative nanoseconds
    let idx = this.idbIndex.get(ifaceId);
    const iface = this.ifaces.get(ifaceId);
    if (!iface) throw new Error(`pcapng: frame for unknown interface ${ifaceId}`);
    if (idx === undefined) {
      idx = this.idbIndex.size;
      this.idbIndex.set(ifaceId, idx);
      this.writeIdb(iface);
    }
    const capLen = Math.min(data.length, iface.snapLen);
    const body = new Uint8Array(20 + pad4(capLen));
    const v = new DataView(body.buffer);
    v.setUint32(0, idx, true);
    // if_tsresol 9: the timestamp is a 64-bit count of nanoseconds, split high/low as the format requires.
    v.setUint32(4, Math.floor(t / 2 ** 32), true);
    v.setUint32(8, t % 2 ** 32, true);
    v.setUint32(12, capLen, true);
    v.setUint32(16, data.length, true);
    body.set(data.subarray(0, capLen), 20);
    const flags = u32le(dir === 'rx' ? EPB_FLAG_INBOUND : EPB_FLAG_OUTBOUND);
    this.out.write(block(BT_EPB, body, [{ code: OPT_EPB_FLAGS, value: flags }]));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
  }

  private writeIdb(iface: CaptureIface): void {
    const body = new Uint8Array(8);
    const v = new DataView(body.buffer);
    v.setUint16(0, iface.linkType, true);
    v.setUint16(2, 0, true);
    v.setUint32(4, iface.snapLen, true);
    this.out.write(
      block(BT_IDB, body, [
        { code: OPT_IF_NAME, value: utf8.encode(`${iface.ns}/${iface.dev}`) },
        { code: OPT_IF_TSRESOL, value: Uint8Array.of(9) },
      ]),
    );
  }
}
