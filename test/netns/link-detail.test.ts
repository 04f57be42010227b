// `ip -d link show` for what test/fidelity/link-detail.test.ts cannot compare with Linux on every machine: a dummy
// device (the reference machine has no dummy module; the values follow dummy_setup: no multicast, NOARP, min/max
// MTU 0), a veth whose peer is in the initial namespace (`link-netnsid 0`), and the unknown-device error.

import { describe, expect, it } from 'vitest';
import { Kernel } from '../../src/netns/kernel.js';
import { createDummy, createVeth, linkSetUp } from '../../src/netns/link.js';
import { ipLinkShowDetail } from '../../src/netns/show.js';
import { parseMac } from '../../src/wire/addr.js';

const TAIL = 'gso_max_size 65536 gso_max_segs 65535';

describe('ip -d link show', () => {
  it('a dummy device', () => {
    const k = new Kernel();
    const ns = k.addNetns('a');
    const d = createDummy(ns, 'd0', parseMac('02:00:00:00:00:d0')!);
    expect(ipLinkShowDetail(ns, 'd0')).toBe(
      `2: d0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
    link/ether 02:00:00:00:00:d0 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 
    dummy addrgenmode eui64 numtxqueues 1 numrxqueues 1 ${TAIL} tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 
`,
    );
    linkSetUp(d);
    expect(ipLinkShowDetail(ns, 'd0').split('\n')[0]).toBe(
      '2: d0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
    );
  });

  it('a veth whose peer is in the initial namespace', () => {
    const k = new Kernel();
    const pod = k.addNetns('pod');
    createVeth(k.root, { name: 'veth0', peerName: 'eth0', peerNs: pod, peerMac: parseMac('02:00:00:00:00:02')! });
    expect(ipLinkShowDetail(pod, 'eth0').split('\n')[1]).toBe(
      '    link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0 promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ',
    );
    expect(ipLinkShowDetail(k.root, 'veth0').split('\n')[1]).toContain(' link-netns pod promiscuity 0 ');
  });

  it('an unknown device', () => {
    const k = new Kernel();
    expect(() => ipLinkShowDetail(k.root, 'eth9')).toThrow('Device "eth9" does not exist.');
  });
});
