// Name tables iptables takes from the C library: IP protocol names (getprotobyname/getprotobynumber over netbase's
// /etc/protocols, IANA numbers) and TCP/UDP service names (getservbyname/getservbyport over /etc/services). They are
// compiled in so that output does not depend on the machine. Limits: the service table holds the common well-known
// ports only; a name outside it is refused as iptables refuses an unknown service, and `-L` without `-n` prints
// other ports as numbers.

/** Protocol number → canonical name, then aliases, as netbase's /etc/protocols lists them. */
const PROTOCOLS: readonly (readonly [number, string, ...string[]])[] = [
  [1, 'icmp', 'ICMP'],
  [2, 'igmp', 'IGMP'],
  [3, 'ggp', 'GGP'],
  [4, 'ipencap', 'IP-ENCAP'],
  [5, 'st', 'ST'],
  [6, 'tcp', 'TCP'],
  [8, 'egp', 'EGP'],
  [9, 'igp', 'IGP'],
  [12, 'pup', 'PUP'],
  [17, 'udp', 'UDP'],
  [20, 'hmp', 'HMP'],
  [22, 'xns-idp', 'XNS-IDP'],
  [27, 'rdp', 'RDP'],
  [29, 'iso-tp4', 'ISO-TP4'],
  [33, 'dccp', 'DCCP'],
  [36, 'xtp', 'XTP'],
  [37, 'ddp', 'DDP'],
  [38, 'idpr-cmtp', 'IDPR-CMTP'],
  [41, 'ipv6', 'IPv6'],
  [43, 'ipv6-route', 'IPv6-Route'],
  [44, 'ipv6-frag', 'IPv6-Frag'],
  [45, 'idrp', 'IDRP'],
  [46, 'rsvp', 'RSVP'],
  [47, 'gre', 'GRE'],
  [50, 'esp', 'IPSEC-ESP'],
  [51, 'ah', 'IPSEC-AH'],
  [57, 'skip', 'SKIP'],
  [58, 'ipv6-icmp', 'IPv6-ICMP'],
  [59, 'ipv6-nonxt', 'IPv6-NoNxt'],
  [60, 'ipv6-opts', 'IPv6-Opts'],
  [73, 'rspf', 'RSPF', 'CPHB'],
  [81, 'vmtp', 'VMTP'],
  [88, 'eigrp', 'EIGRP'],
  [89, 'ospf', 'OSPFIGP'],
  [93, 'ax.25', 'AX.25'],
  [94, 'ipip', 'IPIP'],
  [97, 'etherip', 'ETHERIP'],
  [98, 'encap', 'ENCAP'],
  [103, 'pim', 'PIM'],
  [108, 'ipcomp', 'IPCOMP'],
  [112, 'vrrp', 'VRRP'],
  [115, 'l2tp', 'L2TP'],
  [124, 'isis', 'ISIS'],
  [132, 'sctp', 'SCTP'],
  [133, 'fc', 'FC'],
  [135, 'mobility-header', 'Mobility-Header'],
  [136, 'udplite', 'UDPLite'],
  [137, 'mpls-in-ip', 'MPLS-in-IP'],
  [138, 'manet'],
  [139, 'hip', 'HIP'],
  [140, 'shim6', 'Shim6'],
  [141, 'wesp', 'WESP'],
  [142, 'rohc', 'ROHC'],
  [143, 'ethernet', 'Ethernet'],
];

const PROTO_BY_NUM = new Map<number, string>(PROTOCOLS.map(([n, name]) => [n, name]));
const PROTO_BY_NAME = new Map<string, number>();
for (const [n, ...names] of PROTOCOLS) for (const name of names) PROTO_BY_NAME.set(name, n);
PROTO_BY_NAME.set('ip', 0);
PROTO_BY_NAME.set('IP', 0);

/** getprotobynumber(): the canonical name, or undefined. */
export function protoName(num: number): string | undefined {
  return PROTO_BY_NUM.get(num);
}

/** getprotobyname(): exact (case-sensitive) name or alias. */
export function protoByName(name: string): number | undefined {
  return PROTO_BY_NAME.get(name);
}

/** [name, port, protocols, ...aliases]: 't' tcp, 'u' udp, 'tu' both. */
const SERVICES: readonly (readonly [string, number, string, ...string[]])[] = [
  ['tcpmux', 1, 't'],
  ['echo', 7, 'tu'],
  ['discard', 9, 'tu', 'sink', 'null'],
  ['daytime', 13, 'tu'],
  ['ftp-data', 20, 't'],
  ['ftp', 21, 't'],
  ['fsp', 21, 'u', 'fspd'],
  ['ssh', 22, 't'],
  ['telnet', 23, 't'],
  ['smtp', 25, 't', 'mail'],
  ['time', 37, 'tu', 'timserver'],
  ['whois', 43, 't', 'nicname'],
  ['tacacs', 49, 'tu'],
  ['domain', 53, 'tu'],
  ['bootps', 67, 'u'],
  ['bootpc', 68, 'u'],
  ['tftp', 69, 'u'],
  ['gopher', 70, 't'],
  ['finger', 79, 't'],
  ['http', 80, 't', 'www'],
  ['kerberos', 88, 'tu', 'kerberos5', 'krb5', 'kerberos-sec'],
  ['pop3', 110, 't', 'pop-3'],
  ['sunrpc', 111, 'tu', 'portmapper'],
  ['auth', 113, 't', 'authentication', 'tap', 'ident'],
  ['nntp', 119, 't', 'readnews', 'untp'],
  ['ntp', 123, 'u'],
  ['epmap', 135, 't', 'loc-srv'],
  ['netbios-ns', 137, 'u'],
  ['netbios-dgm', 138, 'u'],
  ['netbios-ssn', 139, 't'],
  ['imap2', 143, 't', 'imap'],
  ['snmp', 161, 'tu'],
  ['snmp-trap', 162, 'tu', 'snmptrap'],
  ['bgp', 179, 't'],
  ['ldap', 389, 'tu'],
  ['https', 443, 'tu'],
  ['microsoft-ds', 445, 't'],
  ['kpasswd', 464, 'tu'],
  ['submissions', 465, 't', 'ssmtp', 'smtps', 'urd'],
  ['isakmp', 500, 'u'],
  ['exec', 512, 't'],
  ['biff', 512, 'u', 'comsat'],
  ['login', 513, 't'],
  ['who', 513, 'u', 'whod'],
  ['shell', 514, 't', 'cmd', 'syslog'],
  ['syslog', 514, 'u'],
  ['printer', 515, 't', 'spooler'],
  ['route', 520, 'u', 'router', 'routed'],
  ['rtsp', 554, 'tu'],
  ['submission', 587, 't'],
  ['ipp', 631, 't'],
  ['ldaps', 636, 'tu'],
  ['domain-s', 853, 'tu'],
  ['rsync', 873, 't'],
  ['ftps-data', 989, 't'],
  ['ftps', 990, 't'],
  ['telnets', 992, 't'],
  ['imaps', 993, 't'],
  ['pop3s', 995, 't'],
  ['socks', 1080, 't'],
  ['openvpn', 1194, 'tu'],
  ['ms-sql-s', 1433, 't'],
  ['ms-sql-m', 1434, 'u'],
  ['l2f', 1701, 'u', 'l2tp'],
  ['radius', 1812, 'tu'],
  ['radius-acct', 1813, 'tu', 'radacct'],
  ['nfs', 2049, 'tu'],
  ['mysql', 3306, 't'],
  ['ms-wbt-server', 3389, 't'],
  ['svn', 3690, 't', 'subversion'],
  ['epmd', 4369, 't'],
  ['ipsec-nat-t', 4500, 'u'],
  ['sip', 5060, 'tu'],
  ['sip-tls', 5061, 'tu'],
  ['xmpp-client', 5222, 't', 'jabber-client'],
  ['xmpp-server', 5269, 't', 'jabber-server'],
  ['mdns', 5353, 'u'],
  ['postgresql', 5432, 't', 'postgres'],
  ['amqps', 5671, 't'],
  ['amqp', 5672, 't'],
  ['x11', 6000, 't', 'x11-0'],
  ['redis', 6379, 't'],
  ['ircd', 6667, 't'],
  ['http-alt', 8080, 't', 'webcache'],
  ['git', 9418, 't'],
  ['webmin', 10000, 't'],
];

const SERVICE_BY_NAME = new Map<string, { tcp?: number; udp?: number }>();
const SERVICE_BY_PORT = { tcp: new Map<number, string>(), udp: new Map<number, string>() };
for (const [name, port, protos, ...aliases] of SERVICES) {
  for (const n of [name, ...aliases]) {
    const e = SERVICE_BY_NAME.get(n) ?? {};
    if (protos.includes('t')) e.tcp ??= port;
    if (protos.includes('u')) e.udp ??= port;
    SERVICE_BY_NAME.set(n, e);
  }
  if (protos.includes('t') && !SERVICE_BY_PORT.tcp.has(port)) SERVICE_BY_PORT.tcp.set(port, name);
  if (protos.includes('u') && !SERVICE_BY_PORT.udp.has(port)) SERVICE_BY_PORT.udp.set(port, name);
}

/** getservbyname(name, proto); `proto` undefined looks in any protocol (tcp first), as with a NULL proto. */
export function serviceByName(name: string, proto?: 'tcp' | 'udp'): number | undefined {
  const e = SERVICE_BY_NAME.get(name);
  if (!e) return undefined;
  if (proto === 'tcp') return e.tcp;
  if (proto === 'udp') return e.udp;
  return e.tcp ?? e.udp;
}

/** getservbyport(port, proto). */
export function serviceName(port: number, proto: 'tcp' | 'udp'): string | undefined {
  return SERVICE_BY_PORT[proto].get(port);
}
