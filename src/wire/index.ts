// The wire layer: byte views and parse/emit records for every header the emulator carries, checksums, and
// tcpdump-style one-line descriptions. No dependency outside this folder.

export * from './addr.js';
export * from './arp.js';
export * from './checksum.js';
export * from './describe.js';
export * from './errors.js';
export * from './ethernet.js';
export * from './icmp.js';
export * from './ipv4.js';
export * from './tcp.js';
export * from './udp.js';
export * from './vxlan.js';
