// Bob Jenkins' lookup3 hash as the kernel's jhash2 (include/linux/jhash.h) computes it over 32-bit words, and
// reciprocal_scale. NAT uses them to pick an address from a multi-address range (find_best_ips_proto), so the
// emulator picks the same address Linux does for the same source and destination. The words are what the kernel
// reads from memory: an IPv4 address is stored in network order and read as a host (little-endian) u32, hence
// `addrWord`.

function rol32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export function jhash2(words: readonly number[], initval: number): number {
  let a = (0xdeadbeef + (words.length << 2) + initval) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  let len = words.length;
  while (len > 3) {
    a = (a + words[i]!) >>> 0;
    b = (b + words[i + 1]!) >>> 0;
    c = (c + words[i + 2]!) >>> 0;
    // __jhash_mix
    a = ((a - c) ^ rol32(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = ((b - a) ^ rol32(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = ((c - b) ^ rol32(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = ((a - c) ^ rol32(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = ((b - a) ^ rol32(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = ((c - b) ^ rol32(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    len -= 3;
    i += 3;
  }
  if (len === 0) return c;
  if (len === 3) c = (c + words[i + 2]!) >>> 0;
  if (len >= 2) b = (b + words[i + 1]!) >>> 0;
  a = (a + words[i]!) >>> 0;
  // __jhash_final
  c = ((c ^ b) - rol32(b, 14)) >>> 0;
  a = ((a ^ c) - rol32(c, 11)) >>> 0;
  b = ((b ^ a) - rol32(a, 25)) >>> 0;
  c = ((c ^ b) - rol32(b, 16)) >>> 0;
  a = ((a ^ c) - rol32(c, 4)) >>> 0;
  b = ((b ^ a) - rol32(a, 14)) >>> 0;
  c = ((c ^ b) - rol32(b, 24)) >>> 0;
  return c;
}

/** An IPv4 address as the u32 a little-endian CPU reads from its network-order bytes. */
export function addrWord(a: number): number {
  return (((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24)) >>> 0;
}

/** (val * range) >> 32 without losing precision: the kernel's reciprocal_scale. */
export function reciprocalScale(val: number, range: number): number {
  const hi = (val >>> 16) * range;
  const lo = (val & 0xffff) * range;
  return Math.floor((hi + Math.floor(lo / 0x10000)) / 0x10000);
}
