// The netfilter fidelity cases: each one topology, the rules of the namespaces involved, listeners and one client
// step. What should happen is deliberately not written here: real Linux decides, and the fixture records it. Rule
// texts are often written the way people type them (`--syn`, `-p 17`, dotted masks, `--icmp-type echo-request`),
// so that the fixture's `iptables-save` also pins down the canonical form the emulator has to print.

import type { LabListener, LabStep } from '../kernel-lab/types.js';
import { bridge, everyChain, pair, restore, routed } from './topologies.js';
import type { NfCase } from './types.js';

const tcpS80: LabListener = { ns: 's', proto: 'tcp', port: 80, reply: 'world' };
const tcpH80: LabListener = { ns: 'h', proto: 'tcp', port: 80, reply: 'world' };
const udpS5000: LabListener = { ns: 's', proto: 'udp', port: 5000, reply: 'pong' };
const udpH5000: LabListener = { ns: 'h', proto: 'udp', port: 5000, reply: 'pong' };
/** A bridge reports its 224.0.0.106 (all-snoopers) membership twice within ~1 s of coming up: let that pass. */
const BRIDGE_SETTLE_MS = 1500;

const ping = (from: string, to: string, extra: Partial<Omit<LabStep & { kind: 'ping' }, 'kind'>> = {}): LabStep => ({
  kind: 'ping',
  from,
  to,
  ...extra,
});
const tcp = (from: string, to: string, port: number, src?: string): LabStep => ({
  kind: 'connect',
  proto: 'tcp',
  from,
  to,
  port,
  payload: 'hello',
  ...(src ? { src } : {}),
});
const udp = (from: string, to: string, port: number): LabStep => ({
  kind: 'connect',
  proto: 'udp',
  from,
  to,
  port,
  payload: 'ping',
});

export const NETFILTER_CASES: NfCase[] = [
  // ---- filter: accept, drop, policies ----
  {
    name: 'input-accept-icmp',
    description: 'h accepts ICMP in INPUT; one echo request counts once (84 bytes), the reply leaves untouched.',
    covers: ['filter INPUT ACCEPT', '-p icmp'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p icmp -j ACCEPT'] }) },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'input-drop-icmp',
    description: 'h drops ICMP in INPUT: the ping times out and the DROP rule counts the request.',
    covers: ['filter INPUT DROP'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p icmp -j DROP'] }) },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'input-policy-drop-ping',
    description: 'INPUT policy DROP with only TCP 22 allowed: the echo request falls through to the policy counter.',
    covers: ['policy DROP', 'policy counters', '-p tcp --dport'],
    setup: pair(),
    rules: { h: restore({ filter: { policy: { INPUT: 'DROP' }, rules: ['-A INPUT -p tcp --dport 22 -j ACCEPT'] } }) },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'input-policy-drop-tcp-allowed',
    description: 'INPUT policy DROP, TCP 80 accepted: every client segment of the connection matches the rule.',
    covers: ['policy DROP', '-p tcp --dport', 'byte counters of a TCP exchange'],
    setup: pair(),
    rules: { h: restore({ filter: { policy: { INPUT: 'DROP' }, rules: ['-A INPUT -p tcp --dport 80 -j ACCEPT'] } }) },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'output-drop-echo-reply',
    description: 'h drops its own echo replies in OUTPUT; the request was delivered, the ping times out.',
    covers: ['filter OUTPUT DROP', '--icmp-type echo-reply'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A OUTPUT -p icmp --icmp-type echo-reply -j DROP'] }) },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'output-policy-drop-state-established',
    description: 'OUTPUT policy DROP and only ESTABLISHED (-m state) allowed out: the SYN-ACK already is ESTABLISHED.',
    covers: ['OUTPUT policy DROP', '-m state --state ESTABLISHED'],
    setup: pair(),
    rules: {
      h: restore({
        filter: { policy: { OUTPUT: 'DROP' }, rules: ['-A OUTPUT -m state --state ESTABLISHED -j ACCEPT'] },
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'forward-drop-dst',
    description: 'The router drops ICMP forwarded to 10.0.2.2 (written without a mask, saved as /32).',
    covers: ['filter FORWARD DROP', '-d without mask'],
    setup: routed(),
    rules: { r: restore({ filter: ['-A FORWARD -d 10.0.2.2 -p icmp -j DROP'] }) },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  {
    name: 'forward-policy-drop-stateful',
    description: 'A stateful router: FORWARD policy DROP, NEW TCP 80 from eth-c to eth-s, then RELATED,ESTABLISHED.',
    covers: ['FORWARD policy DROP', '-i/-o', '--ctstate NEW', '--ctstate RELATED,ESTABLISHED'],
    setup: routed(),
    rules: {
      r: restore({
        filter: {
          policy: { FORWARD: 'DROP' },
          rules: [
            '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
            '-A FORWARD -i eth-c -o eth-s -p tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT',
          ],
        },
      }),
    },
    listen: [tcpS80],
    step: tcp('c', '10.0.2.2', 80),
  },
  // ---- REJECT ----
  {
    name: 'reject-default-ping',
    description: 'REJECT without --reject-with answers an echo request with ICMP port unreachable.',
    covers: ['REJECT', 'icmp-port-unreachable (default)'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p icmp -j REJECT'] }) },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'reject-host-prohibited-forward',
    description: 'The router rejects forwarded ICMP with icmp-host-prohibited, from its address facing the client.',
    covers: ['REJECT --reject-with icmp-host-prohibited', 'FORWARD'],
    setup: routed(),
    rules: { r: restore({ filter: ['-A FORWARD -p icmp -j REJECT --reject-with icmp-host-prohibited'] }) },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  {
    name: 'reject-admin-prohibited-udp',
    description: 'UDP to a listening port rejected with icmp-admin-prohibited.',
    covers: ['REJECT --reject-with icmp-admin-prohibited', '-p udp --dport'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p udp --dport 5000 -j REJECT --reject-with icmp-admin-prohibited'] }) },
    listen: [udpH5000],
    step: udp('c', '10.0.0.2', 5000),
  },
  {
    name: 'reject-tcp-reset-input',
    description: 'TCP to a listening port rejected with a reset: the client sees a refusal, the server never a SYN.',
    covers: ['REJECT --reject-with tcp-reset', 'INPUT'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p tcp --dport 80 -j REJECT --reject-with tcp-reset'] }) },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'reject-tcp-reset-forward',
    description: 'The router resets forwarded TCP: the RST carries the server address as its source.',
    covers: ['REJECT --reject-with tcp-reset', 'FORWARD'],
    setup: routed(),
    rules: { r: restore({ filter: ['-A FORWARD -p tcp --dport 80 -j REJECT --reject-with tcp-reset'] }) },
    listen: [tcpS80],
    step: tcp('c', '10.0.2.2', 80),
  },
  {
    name: 'reject-udp-forward-port-unreachable',
    description: 'The router rejects forwarded UDP with the default port unreachable: a connected socket is refused.',
    covers: ['REJECT (default) in FORWARD', 'ICMP error from a router'],
    setup: routed(),
    rules: { r: restore({ filter: ['-A FORWARD -p udp -j REJECT'] }) },
    listen: [udpS5000],
    step: udp('c', '10.0.2.2', 5000),
  },
  // ---- addresses and interfaces ----
  {
    name: 'addr-cidr-negation',
    description: 'Source /25, negated destination /24 and a plain /32, with a dotted mask: counters pick the branch.',
    covers: ['-s CIDR', '! -d CIDR', 'dotted netmask', 'FORWARD'],
    setup: routed(),
    rules: {
      r: restore({
        filter: [
          '-A FORWARD -s 10.0.1.0/255.255.255.128 -j ACCEPT',
          '-A FORWARD ! -d 10.0.1.0/24 -j DROP',
          '-A FORWARD -d 10.0.1.2/32 -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  {
    name: 'addr-negated-source-secondary',
    description: 'A ping from the client secondary address 10.0.0.3 is outside 10.0.0.0/31, so `! -s` drops it.',
    covers: ['! -s', '/31 via a dotted mask', 'source address chosen with ping -I'],
    setup: pair({ clientExtra: ['10.0.0.3/24'] }),
    rules: {
      h: restore({
        filter: ['-A INPUT -s 10.0.0.1/32 -j ACCEPT', '-A INPUT ! -s 10.0.0.0/255.255.255.254 -p icmp -j DROP'],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { src: '10.0.0.3' }),
  },
  {
    name: 'iface-wildcard-negation',
    description: 'FORWARD policy DROP; `-i eth+ -o eth-s` takes the request, `! -i eth-c -o eth-c` the reply.',
    covers: ['-i with +', '! -i', '-o', 'FORWARD policy DROP'],
    setup: routed(),
    rules: {
      r: restore({
        filter: {
          policy: { FORWARD: 'DROP' },
          rules: [
            '-A FORWARD -i eth+ -o eth-s -j ACCEPT',
            '-A FORWARD ! -i eth-c -o eth-c -j ACCEPT',
            '-A FORWARD -i eth-x+ -j ACCEPT',
          ],
        },
      }),
    },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  // ---- protocols, ports, flags ----
  {
    name: 'tcp-dport-range',
    description: 'TCP destination port range 70:90 accepted, everything else TCP dropped; sport 80 counted on OUTPUT.',
    covers: ['--dport range', '--sport', 'OUTPUT'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p tcp --dport 70:90 -j ACCEPT',
          '-A INPUT -p tcp -j DROP',
          '-A OUTPUT -p tcp --sport 80 -j ACCEPT',
        ],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'tcp-port-negation',
    description: '`! --dport 80` drops nothing of a connection to 80; sport range 1024:65535 matches the client.',
    covers: ['! --dport', '--sport range'],
    setup: pair(),
    rules: {
      h: restore({
        filter: ['-A INPUT -p tcp ! --dport 80 -j DROP', '-A INPUT -p tcp --sport 1024:65535 --dport 80 -j ACCEPT'],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'udp-open-port-ranges',
    description: 'UDP `--sport 1024:` and `--dport :6000` (open-ended ranges, saved as 1024:65535 and 0:6000).',
    covers: ['-p udp', 'open-ended port ranges'],
    setup: pair(),
    rules: {
      h: restore({
        filter: ['-A INPUT -p udp --sport 1024: --dport :6000 -j ACCEPT', '-A INPUT -p udp -j DROP'],
      }),
    },
    listen: [udpH5000],
    step: udp('c', '10.0.0.2', 5000),
  },
  {
    name: 'proto-number',
    description: '`-p 17` is saved as `-p udp`, and `-p 1` as `-p icmp`.',
    covers: ['-p by number'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p 17 -j ACCEPT', '-A INPUT -p 1 -j ACCEPT'] }) },
    listen: [udpH5000],
    step: udp('c', '10.0.0.2', 5000),
  },
  {
    name: 'icmp-type-names',
    description: 'ICMP types by name and number, and a negated type, in INPUT and OUTPUT.',
    covers: ['--icmp-type name', '--icmp-type type/code', '! --icmp-type'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p icmp --icmp-type echo-reply -j DROP',
          '-A INPUT -p icmp --icmp-type 8/0 -j ACCEPT',
          '-A OUTPUT -p icmp ! --icmp-type echo-reply -j DROP',
          '-A OUTPUT -p icmp --icmp-type 0 -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'icmp-time-exceeded-dropped',
    description: 'The client drops time-exceeded in INPUT: a TTL-1 ping that expires at the router times out.',
    covers: ['--icmp-type time-exceeded', 'ICMP error to the client'],
    setup: routed(),
    rules: { c: restore({ filter: ['-A INPUT -p icmp --icmp-type time-exceeded -j DROP'] }) },
    listen: [],
    step: ping('c', '10.0.2.2', { ttl: 1 }),
  },
  {
    name: 'icmp-time-exceeded-related',
    description: "The router's time-exceeded is RELATED to the client's ping in the client's conntrack.",
    covers: ['--ctstate RELATED', 'ICMP error related to an echo'],
    setup: routed(),
    rules: {
      c: restore({
        filter: [
          '-A INPUT -p icmp -m conntrack --ctstate RELATED -j ACCEPT',
          '-A INPUT -p icmp -m conntrack --ctstate NEW,ESTABLISHED,INVALID -j DROP',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.2.2', { ttl: 1 }),
  },
  {
    name: 'tcp-flags-classes',
    description: 'Segments sorted by flags: SYN only, pure ACK, and everything that is not a SYN.',
    covers: ['--tcp-flags', '--tcp-flags ALL', '! --syn'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p tcp --tcp-flags SYN,ACK SYN -j ACCEPT',
          '-A INPUT -p tcp --tcp-flags ALL ACK -j ACCEPT',
          '-A INPUT -p tcp ! --syn -j ACCEPT',
          '-A OUTPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j ACCEPT',
          '-A OUTPUT -p tcp --tcp-flags FIN FIN -j ACCEPT',
        ],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'tcp-syn-drop-retransmits',
    description: 'SYNs to port 80 dropped: the counter shows how many SYNs the client sent before giving up.',
    covers: ['--syn', 'DROP', 'SYN retransmission'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p tcp --syn --dport 80 -j DROP'] }) },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'multiport',
    description: 'multiport --dports with a list and a range; a negated --ports rule never matches port 80.',
    covers: ['-m multiport --dports', '! --ports', '--sports'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p tcp -m multiport ! --ports 80 -j DROP',
          '-A INPUT -p tcp -m multiport --dports 22,80:90,443 -j ACCEPT',
          '-A OUTPUT -p tcp -m multiport --sports 80,443 -j ACCEPT',
        ],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'comment-quoting',
    description: 'Comments with and without spaces and with quotes: iptables-save quotes them its own way.',
    covers: ['-m comment'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p icmp -m comment --comment "allow ping" -j ACCEPT',
          '-A OUTPUT -m comment --comment plain',
          '-A OUTPUT -m comment --comment "say \\"hi\\"" -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  // ---- conntrack ----
  {
    name: 'ctstate-ping-twice',
    description: 'Two echo requests of one ping: the first is NEW, the second ESTABLISHED (same ICMP id).',
    covers: ['--ctstate NEW', '--ctstate ESTABLISHED', 'INPUT policy DROP'],
    setup: pair(),
    rules: {
      h: restore({
        filter: {
          policy: { INPUT: 'DROP' },
          rules: [
            '-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT',
            '-A INPUT -p icmp -m conntrack --ctstate NEW -j ACCEPT',
          ],
        },
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 2 }),
  },
  {
    name: 'ctstate-invalid-echo-reply',
    description: 'The router does not track the request (raw NOTRACK), so the echo reply alone is INVALID.',
    covers: ['--ctstate INVALID', '--ctstate UNTRACKED', 'raw NOTRACK'],
    setup: routed(),
    rules: {
      r: restore({
        raw: ['-A PREROUTING -i eth-c -p icmp -j NOTRACK'],
        filter: [
          '-A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT',
          '-A FORWARD -m conntrack --ctstate INVALID -j DROP',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  {
    name: 'ctstate-related-udp-unreachable',
    description: "FORWARD policy DROP; the server's port unreachable for a NEW UDP flow is RELATED at the router.",
    covers: ['--ctstate RELATED', 'ICMP error related to UDP', 'FORWARD policy DROP'],
    setup: routed(),
    rules: {
      r: restore({
        filter: {
          policy: { FORWARD: 'DROP' },
          rules: [
            '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT',
            '-A FORWARD -m conntrack --ctstate RELATED -j ACCEPT',
            '-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT',
          ],
        },
      }),
    },
    listen: [],
    step: udp('c', '10.0.2.2', 5999),
  },
  {
    name: 'state-module-tcp',
    description: '`-m state` on a TCP exchange: NEW counts the SYN, ESTABLISHED the rest (both directions).',
    covers: ['-m state --state NEW', '-m state --state ESTABLISHED'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p tcp -m state --state NEW -j ACCEPT',
          '-A INPUT -p tcp -m state --state ESTABLISHED -j ACCEPT',
          '-A OUTPUT -p tcp -m state --state NEW -j ACCEPT',
          '-A OUTPUT -p tcp -m state --state ESTABLISHED -j ACCEPT',
        ],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'ctstate-virtual-dnat-snat',
    description: 'DNAT at the router plus MASQUERADE: the virtual DNAT and SNAT states match both directions.',
    covers: ['--ctstate DNAT', '--ctstate SNAT', 'DNAT', 'MASQUERADE'],
    setup: routed(),
    rules: {
      r: restore({
        nat: [
          '-A PREROUTING -d 10.0.1.1/32 -p tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80',
          '-A POSTROUTING -o eth-s -j MASQUERADE',
        ],
        filter: [
          '-A FORWARD -m conntrack --ctstate SNAT,DNAT',
          '-A FORWARD -m conntrack --ctstate DNAT',
          '-A FORWARD -m conntrack --ctstate SNAT',
          '-A FORWARD -m conntrack ! --ctstate DNAT',
        ],
      }),
    },
    listen: [tcpS80],
    step: tcp('c', '10.0.1.1', 8080),
  },
  {
    name: 'ct-notrack-local',
    description: 'raw `CT --notrack` on incoming ICMP: the request is UNTRACKED; how does the local reply look?',
    covers: ['CT --notrack', '--ctstate UNTRACKED', 'conntrack of a locally generated reply'],
    setup: pair(),
    rules: {
      h: restore({
        raw: ['-A PREROUTING -p icmp -j CT --notrack'],
        filter: [
          '-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT',
          '-A OUTPUT -m conntrack --ctstate UNTRACKED',
          '-A OUTPUT -m conntrack --ctstate INVALID',
          '-A OUTPUT -m conntrack --ctstate NEW',
          '-A OUTPUT -m conntrack --ctstate ESTABLISHED',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'notrack-both-directions',
    description: 'NOTRACK of a TCP connection in raw PREROUTING and OUTPUT: all untracked, no conntrack entry.',
    covers: ['NOTRACK', '-m state --state UNTRACKED', 'raw OUTPUT'],
    setup: pair(),
    rules: {
      h: restore({
        raw: ['-A PREROUTING -p tcp --dport 80 -j NOTRACK', '-A OUTPUT -p tcp --sport 80 -j NOTRACK'],
        filter: [
          '-A INPUT -m state --state UNTRACKED -j ACCEPT',
          '-A INPUT -j DROP',
          '-A OUTPUT -m state --state UNTRACKED -j ACCEPT',
        ],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'tcp-closed-port-conntrack',
    description: 'No listener: the kernel RST closes the tracked connection; conntrack shows what is left.',
    covers: ['conntrack of a refused TCP connection', '--ctstate ESTABLISHED on a RST'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p tcp -m conntrack --ctstate NEW',
          '-A OUTPUT -p tcp --tcp-flags RST RST -m conntrack --ctstate ESTABLISHED',
          '-A OUTPUT -p tcp --tcp-flags RST RST -m conntrack --ctstate INVALID',
        ],
      }),
    },
    listen: [],
    step: tcp('c', '10.0.0.2', 81),
  },
  {
    name: 'udp-conntrack-entry',
    description: 'A UDP request and reply through h: the conntrack entry after one exchange.',
    covers: ['conntrack of UDP', '--ctstate NEW'],
    setup: pair(),
    rules: { h: restore({ filter: ['-A INPUT -p udp -m conntrack --ctstate NEW -j ACCEPT'] }) },
    listen: [udpH5000],
    step: udp('c', '10.0.0.2', 5000),
  },
  // ---- marks ----
  {
    name: 'mark-arithmetic',
    description: 'MARK --set-mark, --or-mark, --and-mark, --set-xmark, --xor-mark in turn; filter tells the result.',
    covers: ['MARK --set-mark/--or-mark/--and-mark/--set-xmark/--xor-mark', '-m mark', '! --mark'],
    setup: pair(),
    rules: {
      h: restore({
        mangle: [
          '-A PREROUTING -p icmp -j MARK --set-mark 0x10',
          '-A PREROUTING -p icmp -j MARK --or-mark 0x3',
          '-A PREROUTING -p icmp -j MARK --and-mark 0xf1',
          '-A PREROUTING -p icmp -j MARK --set-xmark 0x4/0x6',
          '-A PREROUTING -p icmp -j MARK --xor-mark 0x100',
        ],
        filter: [
          '-A INPUT -m mark --mark 0x15 -j DROP',
          '-A INPUT -m mark --mark 0x15/0xff',
          '-A INPUT -m mark ! --mark 0x115 -j DROP',
          '-A INPUT -m mark --mark 0x115 -j ACCEPT',
          '-A OUTPUT -m mark --mark 0x0',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'connmark-save-restore',
    description: 'Mark the first packet, save it to the connection, restore it for the replies and the second echo.',
    covers: ['CONNMARK --save-mark', 'CONNMARK --restore-mark', '-m connmark', 'ct mark in conntrack -L'],
    setup: pair(),
    rules: {
      h: restore({
        mangle: [
          '-A PREROUTING -p icmp -m conntrack --ctstate NEW -j MARK --set-mark 0x7',
          '-A PREROUTING -p icmp -m mark --mark 0x7 -j CONNMARK --save-mark',
          '-A PREROUTING -p icmp -m conntrack --ctstate ESTABLISHED -j CONNMARK --restore-mark',
          '-A OUTPUT -p icmp -j CONNMARK --restore-mark',
          '-A OUTPUT -p icmp -m mark --mark 0x7',
        ],
        filter: ['-A INPUT -m connmark --mark 0x7 -j ACCEPT', '-A INPUT -m mark --mark 0x7 -j ACCEPT'],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 2 }),
  },
  {
    name: 'connmark-set-mask',
    description: 'CONNMARK --set-mark value/mask on TCP; connmark matches with and without a mask and negated.',
    covers: ['CONNMARK --set-mark/mask', '-m connmark --mark/mask', '! --mark'],
    setup: pair(),
    rules: {
      h: restore({
        mangle: ['-A PREROUTING -p tcp --dport 80 -j CONNMARK --set-mark 0x25/0xf'],
        filter: [
          '-A OUTPUT -p tcp -m connmark ! --mark 0x5/0xf',
          '-A OUTPUT -p tcp -m connmark --mark 0x5',
          '-A OUTPUT -p tcp -m connmark --mark 0x5/0xf -j ACCEPT',
        ],
      }),
    },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  // ---- addrtype ----
  {
    name: 'addrtype-limit-iface',
    description: "Ping of the router's far address: LOCAL, but not on the input device (--limit-iface-in/out).",
    covers: ['-m addrtype --dst-type LOCAL', '--limit-iface-in', '--src-type LOCAL', '--limit-iface-out'],
    setup: routed(),
    rules: {
      r: restore({
        filter: [
          '-A INPUT -m addrtype --dst-type LOCAL --limit-iface-in',
          '-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT',
          '-A FORWARD -m addrtype ! --dst-type LOCAL',
          '-A OUTPUT -m addrtype --src-type LOCAL --limit-iface-out',
          '-A OUTPUT -m addrtype --src-type LOCAL -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.2.1'),
  },
  {
    name: 'addrtype-src-dst',
    description: 'addrtype on both ends of a local exchange: UNICAST source in, LOCAL source out.',
    covers: ['--src-type UNICAST', '--dst-type', '--src-type LOCAL'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -m addrtype --src-type LOCAL -j DROP',
          '-A INPUT -m addrtype --src-type UNICAST --dst-type LOCAL -j ACCEPT',
          '-A OUTPUT -m addrtype --src-type LOCAL --dst-type UNICAST -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  // ---- statistic ----
  {
    name: 'statistic-nth',
    description: 'Four echo requests through two nth counters (every 2 from packet 0 drops, every 3 from packet 2).',
    covers: ['-m statistic --mode nth --every --packet'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p icmp -m statistic --mode nth --every 2 --packet 0 -j DROP',
          '-A INPUT -p icmp -m statistic --mode nth --every 3 --packet 2 -j ACCEPT',
          '-A INPUT -p icmp -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 4 }),
  },
  {
    name: 'statistic-random',
    description: 'kube-proxy style endpoint choice (1/3, 1/2, rest): exactly one of the three rules takes the ping.',
    covers: ['-m statistic --mode random --probability', 'user chain'],
    setup: pair(),
    rules: {
      h: restore({
        filter: {
          chains: ['SVC'],
          rules: [
            '-A INPUT -p icmp -j SVC',
            '-A SVC -m statistic --mode random --probability 0.33333333349 -j ACCEPT',
            '-A SVC -m statistic --mode random --probability 0.50000000000 -j ACCEPT',
            '-A SVC -j ACCEPT',
          ],
        },
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
    randomGroups: [{ ns: 'h', table: 'filter', chain: 'SVC', rules: [1, 2, 3] }],
  },
  // ---- recent ----
  {
    name: 'recent-set-rcheck',
    description: 'The first echo request is recorded (--set), the second is seen by --rcheck and dropped.',
    covers: ['-m recent --set', '--rcheck --seconds'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p icmp -m recent --rcheck --seconds 60 --name PING -j DROP',
          '-A INPUT -p icmp -m recent --set --name PING -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 2 }),
  },
  {
    name: 'recent-update-hitcount',
    description: 'Three echo requests against --update --hitcount 2: the third is dropped.',
    covers: ['-m recent --update --seconds --hitcount'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p icmp -m recent --update --seconds 30 --hitcount 2 --name FLOOD -j DROP',
          '-A INPUT -p icmp -m recent --set --name FLOOD -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 3 }),
  },
  // ---- iprange, limit ----
  {
    name: 'iprange',
    description: 'Forwarded ping: source inside --src-range; the reply destination not outside the ! --dst-range.',
    covers: ['-m iprange --src-range', '! --dst-range'],
    setup: routed(),
    rules: {
      r: restore({
        filter: [
          '-A FORWARD -m iprange --src-range 10.0.1.2-10.0.1.9 -j ACCEPT',
          '-A FORWARD -m iprange ! --dst-range 10.0.1.2-10.0.1.9 -j DROP',
          '-A FORWARD -m iprange --dst-range 10.0.1.1-10.0.1.2 -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  {
    name: 'limit-burst',
    description: 'limit 1/min with a burst of 2: two of four echo requests pass, the rest fall to the DROP.',
    covers: ['-m limit --limit --limit-burst'],
    setup: pair(),
    rules: {
      h: restore({
        filter: ['-A INPUT -p icmp -m limit --limit 1/min --limit-burst 2 -j ACCEPT', '-A INPUT -p icmp -j DROP'],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 4 }),
  },
  // ---- bridge netfilter ----
  {
    name: 'bridge-nf-physdev',
    description: 'bridge-nf-call-iptables=1, FORWARD policy DROP: physdev rules accept pa→pb and back.',
    covers: ['-m physdev --physdev-in/--physdev-out', '--physdev-is-bridged', 'br_netfilter FORWARD'],
    setup: bridge(1),
    settleMs: BRIDGE_SETTLE_MS,
    rules: {
      node: restore({
        filter: {
          policy: { FORWARD: 'DROP' },
          rules: [
            '-A FORWARD -m physdev --physdev-in veth-a --physdev-out veth-b --physdev-is-bridged -j ACCEPT',
            '-A FORWARD -m physdev --physdev-in veth-b -j ACCEPT',
          ],
        },
      }),
    },
    listen: [{ ns: 'pb', proto: 'tcp', port: 80, reply: 'world' }],
    step: tcp('pa', '10.244.1.3', 80),
  },
  {
    name: 'bridge-nf-drop',
    description: 'bridge-nf-call-iptables=1: bridged ICMP is dropped by `-i br0 -o br0` in FORWARD.',
    covers: ['br_netfilter', '-i/-o bridge device for bridged frames'],
    setup: bridge(1),
    settleMs: BRIDGE_SETTLE_MS,
    rules: { node: restore({ filter: ['-A FORWARD -i br0 -o br0 -p icmp -j DROP'] }) },
    listen: [],
    step: ping('pa', '10.244.1.3'),
  },
  {
    name: 'bridge-nf-off',
    description: 'The same DROP with bridge-nf-call-iptables=0: bridged frames never see iptables.',
    covers: ['net.bridge.bridge-nf-call-iptables=0'],
    setup: bridge(0),
    settleMs: BRIDGE_SETTLE_MS,
    rules: { node: restore({ filter: ['-A FORWARD -i br0 -o br0 -p icmp -j DROP'] }) },
    listen: [],
    step: ping('pa', '10.244.1.3'),
  },
  {
    name: 'bridge-nf-conntrack',
    description: 'Bridged UDP is tracked in the bridge namespace: NEW then ESTABLISHED, and a conntrack entry.',
    covers: ['br_netfilter conntrack', '--ctstate NEW/ESTABLISHED', 'PREROUTING/POSTROUTING of bridged frames'],
    setup: bridge(1),
    settleMs: BRIDGE_SETTLE_MS,
    rules: {
      node: restore({
        mangle: ['-A PREROUTING -p udp', '-A POSTROUTING -p udp'],
        filter: [
          '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT',
          '-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT',
        ],
      }),
    },
    listen: [{ ns: 'pb', proto: 'udp', port: 5000, reply: 'pong' }],
    step: udp('pa', '10.244.1.3', 5000),
  },
  // ---- user chains ----
  {
    name: 'user-chain-jump-return',
    description: 'A user chain returns early; the rule after RETURN is never reached; INPUT goes on after the jump.',
    covers: ['-j user chain', 'RETURN'],
    setup: pair(),
    rules: {
      h: restore({
        filter: {
          chains: ['CHK'],
          rules: [
            '-A INPUT -p icmp -j CHK',
            '-A INPUT -p icmp -j ACCEPT',
            '-A CHK -s 10.0.0.9/32 -j DROP',
            '-A CHK -j RETURN',
            '-A CHK -j DROP',
          ],
        },
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'user-chain-goto',
    description: 'goto (-g) into a chain that returns: the verdict comes from the policy, not the rule after -g.',
    covers: ['-g goto', 'RETURN from a goto chain', 'policy counters'],
    setup: pair(),
    rules: {
      h: restore({
        filter: {
          chains: ['G1'],
          rules: ['-A INPUT -p icmp -g G1', '-A INPUT -p icmp -j DROP', '-A G1 -j RETURN'],
        },
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'user-chain-nested',
    description: 'INPUT jumps to A, A jumps to B, B falls off its end back into A, which decides.',
    covers: ['nested user chains', 'falling off the end of a user chain'],
    setup: pair(),
    rules: {
      h: restore({
        filter: {
          policy: { INPUT: 'DROP' },
          chains: ['A', 'B'],
          rules: [
            '-A INPUT -j A',
            '-A A -p icmp -j B',
            '-A A -p icmp --icmp-type echo-request -j ACCEPT',
            '-A B -p tcp -j DROP',
            '-A B -p icmp --icmp-type echo-reply -j DROP',
          ],
        },
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  // ---- NAT ----
  {
    name: 'dnat-port-forward',
    description: "Port forward at the router: 10.0.1.1:8080 → 10.0.2.2:80, FORWARD allowing only DNAT'd flows.",
    covers: ['DNAT --to-destination ip:port', 'FORWARD policy DROP', '--ctstate DNAT', 'conntrack of DNAT'],
    setup: routed(),
    rules: {
      r: restore({
        nat: ['-A PREROUTING -d 10.0.1.1/32 -p tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:80'],
        filter: { policy: { FORWARD: 'DROP' }, rules: ['-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT'] },
      }),
    },
    listen: [tcpS80],
    step: tcp('c', '10.0.1.1', 8080),
  },
  {
    name: 'dnat-local-port',
    description: 'DNAT to a local port given without an address (`--to-destination :80`).',
    covers: ['DNAT to a local port', '--to-destination :port'],
    setup: pair(),
    rules: { h: restore({ nat: ['-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination :80'] }) },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 8080),
  },
  {
    name: 'snat-to-router',
    description: "SNAT to the router's out address; the server has no route back and only accepts 10.0.2.1.",
    covers: ['SNAT --to-source', '-o', 'conntrack of SNAT'],
    setup: routed({ serverDefaultRoute: false }),
    rules: {
      r: restore({ nat: ['-A POSTROUTING -s 10.0.1.0/24 -o eth-s -j SNAT --to-source 10.0.2.1'] }),
      s: restore({ filter: ['-A INPUT -s 10.0.2.1/32 -p tcp --dport 80 -j ACCEPT', '-A INPUT -j DROP'] }),
    },
    listen: [tcpS80],
    step: tcp('c', '10.0.2.2', 80),
  },
  {
    name: 'snat-to-port',
    description: 'SNAT of UDP to a fixed source port 20000 (outside the ephemeral range, so conntrack keeps it).',
    covers: ['SNAT --to-source ip:port', '-p udp'],
    setup: routed({ serverDefaultRoute: false }),
    rules: {
      r: restore({ nat: ['-A POSTROUTING -o eth-s -p udp -j SNAT --to-source 10.0.2.1:20000'] }),
      s: restore({ filter: ['-A INPUT -s 10.0.2.1/32 -p udp --sport 20000 -j ACCEPT'] }),
    },
    listen: [udpS5000],
    step: udp('c', '10.0.2.2', 5000),
  },
  {
    name: 'masquerade',
    description: 'MASQUERADE on eth-s: the server sees the router address and answers through it.',
    covers: ['MASQUERADE', 'conntrack of MASQUERADE'],
    setup: routed({ serverDefaultRoute: false }),
    rules: {
      r: restore({ nat: ['-A POSTROUTING -o eth-s -j MASQUERADE'] }),
      s: restore({ filter: ['-A INPUT -s 10.0.2.1/32 -j ACCEPT'] }),
    },
    listen: [udpS5000],
    step: udp('c', '10.0.2.2', 5000),
  },
  {
    name: 'masquerade-address-choice',
    description: 'eth-s has 10.0.9.1/24 first, then 10.0.2.1/24: MASQUERADE takes the one on the next hop subnet.',
    covers: ['MASQUERADE source address selection'],
    setup: routed({ serverDefaultRoute: false, routerOutFirst: ['10.0.9.1/24'] }),
    rules: {
      r: restore({ nat: ['-A POSTROUTING -o eth-s -j MASQUERADE'] }),
      s: restore({ filter: ['-A INPUT -s 10.0.9.1/32', '-A INPUT -s 10.0.2.1/32'] }),
    },
    listen: [],
    step: ping('c', '10.0.2.2'),
  },
  {
    name: 'redirect-prerouting',
    description: 'REDIRECT TCP 80 to local port 8080, where the server listens.',
    covers: ['REDIRECT --to-ports', 'conntrack of REDIRECT'],
    setup: pair(),
    rules: { h: restore({ nat: ['-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080'] }) },
    listen: [{ ns: 'h', proto: 'tcp', port: 8080, reply: 'redirected' }],
    step: tcp('c', '10.0.0.2', 80),
  },
  {
    name: 'redirect-output-local',
    description: "REDIRECT in nat OUTPUT of h's own connection to 10.0.0.2:80: it lands on 127.0.0.1:8080.",
    covers: ['REDIRECT in OUTPUT', 'nat OUTPUT', 'local connection'],
    setup: pair(),
    rules: { h: restore({ nat: ['-A OUTPUT -d 10.0.0.2/32 -p tcp --dport 80 -j REDIRECT --to-ports 8080'] }) },
    listen: [{ ns: 'h', proto: 'tcp', port: 8080, reply: 'redirected' }],
    step: tcp('h', '10.0.0.2', 80),
  },
  {
    name: 'nat-first-packet-only',
    description: 'ping -c 2: nat chains see only the first packet of the connection, mangle and filter both.',
    covers: ['nat table only for NEW', 'nat INPUT', 'mangle PREROUTING'],
    setup: pair(),
    rules: {
      h: restore({
        mangle: ['-A PREROUTING -p icmp'],
        nat: ['-A PREROUTING -p icmp -j ACCEPT', '-A INPUT -p icmp'],
        filter: ['-A INPUT -p icmp -m conntrack --ctstate NEW', '-A INPUT -p icmp -m conntrack --ctstate ESTABLISHED'],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 2 }),
  },
  {
    name: 'dnat-related-icmp-udp',
    description: "UDP DNATed to a closed port: the server's port unreachable is translated back at the router.",
    covers: ['DNAT of UDP', 'RELATED ICMP error translated back', 'FORWARD'],
    setup: routed(),
    rules: {
      r: restore({
        nat: ['-A PREROUTING -d 10.0.1.1/32 -p udp --dport 5353 -j DNAT --to-destination 10.0.2.2:5000'],
        filter: [
          '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT',
          '-A FORWARD -m conntrack --ctstate RELATED -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: udp('c', '10.0.1.1', 5353),
  },
  {
    name: 'dnat-tcp-reset-translated',
    description: 'TCP DNATed to a closed port: the RST comes back through the router with the original address.',
    covers: ['DNAT of TCP', 'reply translation of a RST'],
    setup: routed(),
    rules: {
      r: restore({
        nat: ['-A PREROUTING -d 10.0.1.1/32 -p tcp --dport 8080 -j DNAT --to-destination 10.0.2.2:81'],
        filter: ['-A FORWARD -p tcp --tcp-flags RST RST'],
      }),
    },
    listen: [],
    step: tcp('c', '10.0.1.1', 8080),
  },
  // ---- which hooks a packet crosses, in every table ----
  {
    name: 'hooks-forwarded-ping-no-conntrack',
    description: 'A counting rule in every chain of every table at the router, none needing conntrack; ping -c 2.',
    covers: ['hook traversal of forwarded packets', 'nat chains without conntrack in the namespace'],
    setup: routed(),
    rules: { r: everyChain('-p icmp') },
    listen: [],
    step: ping('c', '10.0.2.2', { count: 2 }),
  },
  {
    name: 'hooks-forwarded-ping',
    description: 'The same counting rules plus one conntrack match (so conntrack runs at the router); ping -c 2.',
    covers: ['hook traversal of forwarded packets', 'raw/mangle/nat/filter', 'nat only for the first packet'],
    setup: routed(),
    rules: { r: everyChain('-p icmp', ['-A FORWARD -m conntrack --ctstate ESTABLISHED']) },
    listen: [],
    step: ping('c', '10.0.2.2', { count: 2 }),
  },
  {
    name: 'hooks-local-ping',
    description: 'Counting rules in every chain at h, conntrack on; ping -c 2 to h (in via INPUT, out via OUTPUT).',
    covers: ['hook traversal of local packets', 'nat INPUT', 'nat OUTPUT/POSTROUTING of a reply'],
    setup: pair(),
    rules: { h: everyChain('-p icmp', ['-A INPUT -m conntrack --ctstate NEW']) },
    listen: [],
    step: ping('c', '10.0.0.2', { count: 2 }),
  },
  {
    name: 'hooks-forwarded-tcp',
    description: 'Counting rules in every chain of every table at the router, conntrack on; one TCP exchange.',
    covers: ['hook traversal of a TCP connection', 'per-chain byte counters', 'nat only for the SYN'],
    setup: routed(),
    rules: { r: everyChain('-p tcp', ['-A FORWARD -m state --state ESTABLISHED']) },
    listen: [tcpS80],
    step: tcp('c', '10.0.2.2', 80),
  },
  {
    name: 'hooks-local-out-ping',
    description: 'Counting rules in every chain of every table at the pinging host itself, conntrack on.',
    covers: ['hook traversal of locally generated packets'],
    setup: pair(),
    rules: { c: everyChain('-p icmp', ['-A OUTPUT -m conntrack --ctstate NEW']) },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
  {
    name: 'hooks-local-tcp-no-conntrack',
    description: 'Counting rules in every chain at h, none needing conntrack; one TCP exchange to h.',
    covers: ['hook traversal without conntrack', 'TCP byte counters'],
    setup: pair(),
    rules: { h: everyChain('-p tcp') },
    listen: [tcpH80],
    step: tcp('c', '10.0.0.2', 80),
  },
  // ---- LOG ----
  {
    name: 'log-counters',
    description: 'LOG is not terminating: both LOG rules count the request, the ACCEPT after them too.',
    covers: ['LOG --log-prefix --log-level', 'LOG without options'],
    setup: pair(),
    rules: {
      h: restore({
        filter: [
          '-A INPUT -p icmp -j LOG --log-prefix "nfc-in: " --log-level 6',
          '-A INPUT -p icmp -j LOG',
          '-A INPUT -p icmp -j ACCEPT',
        ],
      }),
    },
    listen: [],
    step: ping('c', '10.0.0.2'),
  },
];
