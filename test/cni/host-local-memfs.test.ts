// The node filesystem the CNI plugins write: paths cleaned like filepath.Join, sorted listings (os.ReadDir and
// filepath.Walk order, which host-local's store relies on for a deterministic walk), implicit parent directories
// (os.MkdirAll before every store), per-directory generations, and dump() for inspection.

import { describe, expect, it } from 'vitest';
import { cleanPath, hasGenerations, joinPath, MemFs, mkdirAll } from '../../src/cni/fs.js';

describe('MemFs', () => {
  it('cleans paths like filepath.Clean and refuses relative ones', () => {
    expect(cleanPath('/var//lib/./cni/../cni/networks/')).toBe('/var/lib/cni/networks');
    expect(cleanPath('/..')).toBe('/');
    expect(joinPath('/var/lib/cni/networks/', 'cbr0', '10.244.1.2')).toBe('/var/lib/cni/networks/cbr0/10.244.1.2');
    expect(() => cleanPath('var/lib')).toThrow('path must be absolute');
  });

  it('reads back what was written and creates parent directories', () => {
    const fs = new MemFs();
    expect(fs.read('/etc/resolv.conf')).toBeUndefined();
    fs.write('/var/lib/cni/networks/cbr0/10.244.1.2', 'abc\r\neth0');
    expect(fs.read('/var/lib/cni/networks/cbr0/10.244.1.2')).toBe('abc\r\neth0');
    expect(fs.exists('/var/lib/cni/networks/cbr0')).toBe(true);
    expect(fs.isDir('/var/lib/cni/networks/cbr0')).toBe(true);
    expect(fs.isDir('/var/lib/cni/networks/cbr0/10.244.1.2')).toBe(false);
    expect(fs.list('/var/lib/cni')).toEqual(['networks']);
    expect(fs.list('/')).toEqual(['var']);
  });

  it('lists names sorted byte-wise whatever the order of creation', () => {
    const fs = new MemFs();
    for (const n of ['lock', '10.0.0.2', 'last_reserved_ip.0', '10.0.0.10', '10.0.0.3']) fs.write(`/d/${n}`, '');
    expect(fs.list('/d')).toEqual(['10.0.0.10', '10.0.0.2', '10.0.0.3', 'last_reserved_ip.0', 'lock']);
    expect(fs.list('/missing')).toEqual([]);
    expect(fs.list('/d/lock')).toEqual([]);
  });

  it('removes files and empty directories only', () => {
    const fs = new MemFs();
    fs.write('/a/b/f', 'x');
    expect(() => fs.remove('/a/b')).toThrow('directory not empty');
    expect(fs.remove('/a/b/f')).toBe(true);
    expect(fs.remove('/a/b/f')).toBe(false);
    expect(fs.list('/a/b')).toEqual([]);
    expect(fs.remove('/a/b')).toBe(true);
    expect(fs.exists('/a/b')).toBe(false);
    expect(fs.list('/a')).toEqual([]);
  });

  it('refuses to mix up files and directories', () => {
    const fs = new MemFs();
    fs.write('/a/f', 'x');
    expect(() => fs.write('/a', 'y')).toThrow('is a directory');
    expect(() => fs.write('/a/f/g', 'y')).toThrow('not a directory');
    expect(() => fs.mkdir('/a/f')).toThrow('not a directory');
  });

  it('mkdir makes an empty directory visible, as os.MkdirAll does', () => {
    const fs = new MemFs();
    mkdirAll(fs, '/var/lib/cni/networks/cbr0');
    expect(fs.isDir('/var/lib/cni/networks/cbr0')).toBe(true);
    expect(fs.list('/var/lib/cni/networks')).toEqual(['cbr0']);
    expect(fs.dump('/var')).toEqual({});
  });

  it('counts changes per directory, not below it', () => {
    const fs = new MemFs();
    expect(hasGenerations(fs)).toBe(true);
    const g0 = fs.generation('/d');
    fs.write('/d/a', '1');
    fs.write('/d/a', '2');
    expect(fs.generation('/d')).toBe(g0 + 2);
    fs.write('/d/sub/x', '1');
    const g1 = fs.generation('/d');
    fs.write('/d/sub/x', '2');
    expect(fs.generation('/d')).toBe(g1);
    fs.remove('/d/a');
    expect(fs.generation('/d')).toBe(g1 + 1);
    fs.read('/d/sub/x');
    fs.list('/d');
    expect(fs.generation('/d')).toBe(g1 + 1);
  });

  it('dumps the files under a prefix in path order, not files that merely share the prefix text', () => {
    const fs = new MemFs();
    fs.write('/var/lib/cni/networks/cbr0/10.244.1.3', 'b\r\neth0');
    fs.write('/var/lib/cni/networks/cbr0/10.244.1.2', 'a\r\neth0');
    fs.write('/var/lib/cni/networks/cbr00/x', 'other');
    fs.write('/etc/resolv.conf', 'nameserver 10.96.0.10');
    const d = fs.dump('/var/lib/cni/networks/cbr0');
    expect(Object.keys(d)).toEqual(['/var/lib/cni/networks/cbr0/10.244.1.2', '/var/lib/cni/networks/cbr0/10.244.1.3']);
    expect(Object.keys(fs.dump())).toEqual([
      '/etc/resolv.conf',
      '/var/lib/cni/networks/cbr0/10.244.1.2',
      '/var/lib/cni/networks/cbr0/10.244.1.3',
      '/var/lib/cni/networks/cbr00/x',
    ]);
    expect(fs.dump('/etc/resolv.conf')).toEqual({ '/etc/resolv.conf': 'nameserver 10.96.0.10' });
  });
});
