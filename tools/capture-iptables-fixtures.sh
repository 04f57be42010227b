#!/usr/bin/env bash
# Captures the netfilter fixtures in test/fixtures/iptables/ from the real iptables (nf_tables backend).
#
# Every case runs in a fresh network namespace (prefix pw-ipt-cap-) so that the root namespace is never touched:
#   rules.json    one `iptables` command per case from rule-cases.txt: exit status, error text, and what
#                 iptables-save, `iptables -L CHAIN -n -v -x --line-numbers`, `iptables -L CHAIN -n` and
#                 `iptables -S CHAIN` print afterwards.
#   listing.json  a ruleset restored with counters, listed with every -L/-S variant the emulator prints.
#   restore.json  iptables-restore documents from restore-cases.txt applied to a prepared namespace: exit status,
#                 error text and `iptables-save -c` afterwards (flush, --noflush, per-COMMIT atomicity, counters).
#   kube-proxy-restore.txt / kube-proxy-save.txt
#                 a synthetic kube-proxy (v1.31 rule shapes) ruleset of several thousand rules, as fed to
#                 iptables-restore and as iptables-save printed it back.
#
# Requires root, iproute2, iptables (nf_tables), nfacct and python3. Usage: sudo tools/capture-iptables-fixtures.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$HERE/../test/fixtures/iptables}"

if [[ $(id -u) -ne 0 ]]; then
  echo "capture-iptables-fixtures: needs root (network namespaces)" >&2
  exit 1
fi
for tool in ip iptables iptables-save iptables-restore nfacct python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "capture-iptables-fixtures: '$tool' is missing (apt-get install iproute2 iptables nfacct python3)" >&2
    exit 1
  fi
done
if ! iptables --version | grep -q nf_tables; then
  echo "capture-iptables-fixtures: iptables must use the nf_tables backend (update-alternatives --set iptables ...)" >&2
  exit 1
fi

cleanup() {
  for n in $(ip netns list | awk '{print $1}' | grep '^pw-ipt-cap-' || true); do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
cleanup

export OUT
python3 - <<'PY'
import json, os, re, shlex, subprocess, base64, hashlib

OUT = os.environ['OUT']
NS = 'pw-ipt-cap-1'

def sh(args, stdin=None, timeout=30):
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr

def fresh():
    sh(['ip', 'netns', 'del', NS])
    rc, _, err = sh(['ip', 'netns', 'add', NS])
    if rc != 0:
        raise SystemExit('cannot create namespace: ' + err)

def nsx(*args, stdin=None):
    return sh(['ip', 'netns', 'exec', NS, *args], stdin=stdin)

def strip_comments(text):
    return ''.join(l for l in text.splitlines(True) if not l.startswith('#'))

def table_chain(args):
    table, chain = 'filter', None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ('-t', '--table') and i + 1 < len(args):
            table = args[i + 1]; i += 2; continue
        if a in ('-A', '-I', '-R', '-D', '-C', '--append', '--insert') and i + 1 < len(args) and chain is None:
            chain = args[i + 1]; i += 2; continue
        i += 1
    return table, chain

# --- rule cases ---------------------------------------------------------------------------------------------------
cases = []
setup = []
for raw in open(os.path.join(OUT, 'rule-cases.txt'), encoding='utf-8'):
    line = raw.rstrip('\n')
    if not line.strip() or line.startswith('#'):
        continue
    if line.startswith('+'):
        setup.append(line[1:].strip())
        continue
    cases.append((setup, line))
    setup = []

results = []
for setup, line in cases:
    fresh()
    for s in setup:
        if s.startswith('nfacct '):
            nsx('nfacct', 'add', s.split(None, 1)[1])
        else:
            rc, _, err = nsx('iptables', *shlex.split(s))
            if rc != 0:
                raise SystemExit(f'setup failed: {s}: {err}')
    args = shlex.split(line)
    rc, out, err = nsx('iptables', *args)
    table, chain = table_chain(args)
    entry = {'setup': setup, 'cmd': line, 'rc': rc, 'stdout': out, 'stderr': err, 'table': table}
    entry['save'] = strip_comments(nsx('iptables-save', '-t', table)[1])
    if chain is not None:
        entry['chain'] = chain
        entry['listV'] = nsx('iptables', '-t', table, '-L', chain, '-n', '-v', '-x', '--line-numbers')[1]
        entry['listN'] = nsx('iptables', '-t', table, '-L', chain, '-n')[1]
        entry['listKMG'] = nsx('iptables', '-t', table, '-L', chain, '-n', '-v')[1]
        entry['rulesS'] = nsx('iptables', '-t', table, '-S', chain)[1]
    results.append(entry)
with open(os.path.join(OUT, 'rules.json'), 'w', encoding='utf-8') as f:
    json.dump(results, f, indent=1, ensure_ascii=False)
    f.write('\n')

# --- listing ------------------------------------------------------------------------------------------------------
LISTING = '''*filter
:INPUT DROP [123456:98765432]
:FORWARD ACCEPT [99999:100000]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
:UNUSED - [0:0]
:LOGDROP - [0:0]
[5:300] -A INPUT -i lo -j ACCEPT
[100000:99999] -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[9999999:1234567890] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
[12345678901:98765432109876] -A INPUT -s 10.0.0.0/8 ! -d 10.1.2.3/32 -p udp -m udp --sport 53 -m comment --comment "dns replies" -j ACCEPT
[0:0] -A INPUT -j KUBE-FIREWALL
[1:2] -A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 5/sec -j ACCEPT
[3:4] -A INPUT -j LOGDROP
[7:8] -A FORWARD -i veth+ ! -o eth0 -j ACCEPT
[0:0] -A FORWARD -f -j DROP
[0:0] -A FORWARD ! -p tcp -j REJECT --reject-with icmp-host-prohibited
[0:0] -A FORWARD -m physdev --physdev-is-bridged -j ACCEPT
[0:0] -A OUTPUT -m mark --mark 0x4000/0x4000 -j ACCEPT
[0:0] -A OUTPUT -p tcp -m multiport --dports 80,443 -j KUBE-FIREWALL
[0:0] -A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
[0:0] -A LOGDROP -j LOG --log-prefix "dropped: " --log-level 6
[0:0] -A LOGDROP -g KUBE-FIREWALL
[0:0] -A LOGDROP -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [1000:60000]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-SVC-BBBBBBBBBBBBBBBB - [0:0]
[10:600] -A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-BBBBBBBBBBBBBBBB
[0:0] -A POSTROUTING -s 10.244.0.0/16 ! -o cni0 -j MASQUERADE --random-fully
[0:0] -A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 192.0.2.1:1024-65535
[0:0] -A KUBE-SEP-AAAAAAAAAAAAAAAA -s 10.244.1.5/32 -j MARK --set-xmark 0x4000/0x4000
[0:0] -A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:6443
[0:0] -A KUBE-SVC-BBBBBBBBBBBBBBBB -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA
[0:0] -A KUBE-SVC-BBBBBBBBBBBBBBBB -j KUBE-SEP-AAAAAAAAAAAAAAAA
COMMIT
'''
fresh()
rc, out, err = nsx('iptables-restore', '-c', stdin=LISTING)
if rc != 0:
    raise SystemExit('listing restore failed: ' + err)
variants = [
    ['-L'], ['-L', '-n'], ['-L', '-n', '-v'], ['-L', '-n', '-v', '-x'], ['-L', '-n', '-v', '-x', '--line-numbers'],
    ['-L', '-n', '--line-numbers'], ['-L', 'INPUT', '-n', '-v'], ['-L', 'KUBE-FIREWALL', '-n', '-v', '-x'],
    ['-S'], ['-S', 'INPUT'], ['-S', 'KUBE-FIREWALL'], ['-S', '-v'], ['-S', 'INPUT', '-v'], ['-L', 'INPUT', '3', '-n'],
    ['-S', 'INPUT', '4'], ['-nvL'], ['-L', '-v'],
]
listing = {'restore': LISTING, 'outputs': []}
for table in ('filter', 'nat'):
    for v in variants:
        if table == 'nat' and ('INPUT' in v or 'KUBE-FIREWALL' in v):
            continue
        rc, out, err = nsx('iptables', '-t', table, *v)
        listing['outputs'].append({'table': table, 'args': v, 'rc': rc, 'stdout': out, 'stderr': err})
listing['save'] = nsx('iptables-save')[1]
listing['saveCounters'] = nsx('iptables-save', '-c')[1]
with open(os.path.join(OUT, 'listing.json'), 'w', encoding='utf-8') as f:
    json.dump(listing, f, indent=1, ensure_ascii=False)
    f.write('\n')

# --- restore cases ------------------------------------------------------------------------------------------------
rcases = []
cur = None
for raw in open(os.path.join(OUT, 'restore-cases.txt'), encoding='utf-8'):
    line = raw.rstrip('\n')
    if line.startswith('=== '):
        cur = {'name': line[4:], 'setup': [], 'flags': [], 'doc': ''}
        rcases.append(cur)
        continue
    if cur is None:
        continue
    if line.startswith('$ '):
        cur['setup'].append(line[2:])
    elif line.startswith('> '):
        cur['flags'] = shlex.split(line[2:])
    else:
        cur['doc'] += line + '\n'
rres = []
for c in rcases:
    fresh()
    for s in c['setup']:
        args = shlex.split(s)
        rc, _, err = nsx(*args)
        if rc != 0:
            raise SystemExit(f"restore setup failed: {s}: {err}")
    rc, out, err = nsx('iptables-restore', *c['flags'], stdin=c['doc'])
    rres.append({**c, 'rc': rc, 'stdout': out, 'stderr': err, 'after': strip_comments(nsx('iptables-save', '-c')[1])})
with open(os.path.join(OUT, 'restore.json'), 'w', encoding='utf-8') as f:
    json.dump(rres, f, indent=1, ensure_ascii=False)
    f.write('\n')

# --- synthetic kube-proxy ruleset -----------------------------------------------------------------------------------
# Rule shapes of kube-proxy v1.31's iptables proxier (syncProxyRules) and kubelet's KUBE-FIREWALL, with chain names
# hashed the way kube-proxy names them (base32 of sha256, 16 characters).
def h(s):
    return base64.b32encode(hashlib.sha256(s.encode()).digest()).decode()[:16]

CLUSTER_CIDR = '10.244.0.0/16'
filter_rules, nat_rules = [], []
filter_chains = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL']
nat_chains = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']
nat_rules += [
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
]
filter_rules += [
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
]
svc_lines, tail_lines = [], []
nodeport = 30000
for s in range(240):
    ns = ['default', 'kube-system', 'monitoring', 'shop', 'payments', 'search'][s % 6]
    name = f'svc-{s:03d}'
    cluster_ip = f'10.96.{s // 200}.{(s % 200) + 10}'
    ports = [('http', 'tcp', 80, 8080)] if s % 3 else [('http', 'tcp', 80, 8080), ('dns', 'udp', 53, 5353)]
    for pname, proto, port, tport in ports:
        spn = f'{ns}/{name}:{pname}'
        svc = 'KUBE-SVC-' + h(spn + proto)
        ext = 'KUBE-EXT-' + h(spn + proto)
        n_ep = 0 if s % 29 == 7 else 1 + (s % 4)
        eps = [f'10.244.{(s * 7 + i) % 250}.{(s * 13 + i * 17) % 250 + 2}' for i in range(n_ep)]
        is_np = s % 5 == 0
        affinity = s % 11 == 3
        if n_ep == 0:
            filter_rules.append(f'-A KUBE-SERVICES -m comment --comment "{spn} has no endpoints" -m {proto} -p {proto} -d {cluster_ip} --dport {port} -j REJECT')
            if is_np:
                filter_rules.append(f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{spn} has no endpoints" -m addrtype --dst-type LOCAL -m {proto} -p {proto} --dport {nodeport} -j REJECT')
                nodeport += 1
            continue
        nat_chains.append(svc)
        svc_lines.append(f'-A KUBE-SERVICES -m comment --comment "{spn} cluster IP" -m {proto} -p {proto} -d {cluster_ip} --dport {port} -j {svc}')
        nat_rules.append(f'-A {svc} -m comment --comment "{spn} cluster IP" -m {proto} -p {proto} -d {cluster_ip} --dport {port} ! -s {CLUSTER_CIDR} -j KUBE-MARK-MASQ')
        if is_np:
            nat_chains.append(ext)
            tail_lines.append(f'-A KUBE-NODEPORTS -m comment --comment {spn} -m {proto} -p {proto} --dport {nodeport} -j {ext}')
            nat_rules.append(f'-A {ext} -m comment --comment "masquerade traffic for {spn} external destinations" -j KUBE-MARK-MASQ')
            nat_rules.append(f'-A {ext} -j {svc}')
            nodeport += 1
        seps = ['KUBE-SEP-' + h(spn + proto + f'{ip}:{tport}') for ip in eps]
        if affinity:
            for ip, sep in zip(eps, seps):
                nat_rules.append(f'-A {svc} -m comment --comment "{spn} -> {ip}:{tport}" -m recent --name {sep} --rcheck --seconds 10800 --reap -j {sep}')
        for i, (ip, sep) in enumerate(zip(eps, seps)):
            if i < n_ep - 1:
                p = '%0.10f' % (1.0 / (n_ep - i))
                nat_rules.append(f'-A {svc} -m comment --comment "{spn} -> {ip}:{tport}" -m statistic --mode random --probability {p} -j {sep}')
            else:
                nat_rules.append(f'-A {svc} -m comment --comment "{spn} -> {ip}:{tport}" -j {sep}')
        for ip, sep in zip(eps, seps):
            nat_chains.append(sep)
            nat_rules.append(f'-A {sep} -m comment --comment {spn} -s {ip} -j KUBE-MARK-MASQ')
            if affinity:
                nat_rules.append(f'-A {sep} -m comment --comment {spn} -m recent --name {sep} --set -m {proto} -p {proto} -j DNAT --to-destination {ip}:{tport}')
            else:
                nat_rules.append(f'-A {sep} -m comment --comment {spn} -m {proto} -p {proto} -j DNAT --to-destination {ip}:{tport}')
nat_rules = svc_lines + ['-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'] + tail_lines + nat_rules
seen = set()
nat_chains = [c for c in nat_chains if not (c in seen or seen.add(c))]
restore = '*filter\n' + ''.join(f':{c} - [0:0]\n' for c in filter_chains) + ''.join(r + '\n' for r in filter_rules) + 'COMMIT\n'
restore += '*nat\n' + ''.join(f':{c} - [0:0]\n' for c in nat_chains) + ''.join(r + '\n' for r in nat_rules) + 'COMMIT\n'
with open(os.path.join(OUT, 'kube-proxy-restore.txt'), 'w', encoding='utf-8') as f:
    f.write(restore)

fresh()
nsx('nfacct', 'add', 'ct_state_invalid_dropped_pkts')
# What kubelet and kube-proxy install with single iptables commands before the first restore.
PRE = [
    '-t mangle -N KUBE-IPTABLES-HINT', '-t mangle -N KUBE-KUBELET-CANARY', '-t mangle -N KUBE-PROXY-CANARY',
    '-t nat -N KUBE-KUBELET-CANARY', '-t nat -N KUBE-PROXY-CANARY', '-N KUBE-KUBELET-CANARY', '-N KUBE-PROXY-CANARY',
    '-N KUBE-FIREWALL',
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    '-I OUTPUT -j KUBE-FIREWALL', '-I INPUT -j KUBE-FIREWALL',
    '-N KUBE-EXTERNAL-SERVICES', '-N KUBE-NODEPORTS', '-N KUBE-SERVICES', '-N KUBE-FORWARD', '-N KUBE-PROXY-FIREWALL',
    '-t nat -N KUBE-SERVICES', '-t nat -N KUBE-POSTROUTING',
    '-I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-I INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-I OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-I FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-t nat -I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-t nat -I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-t nat -I POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
]
with open(os.path.join(OUT, 'kube-proxy-pre.txt'), 'w', encoding='utf-8') as f:
    for p in PRE:
        rc, _, err = nsx('iptables', *shlex.split(p))
        if rc != 0:
            raise SystemExit(f'kube-proxy setup failed: {p}: {err}')
        f.write(p + '\n')
rc, _, err = nsx('iptables-restore', '--noflush', '--counters', stdin=restore)
if rc != 0:
    raise SystemExit('kube-proxy restore failed: ' + err)
with open(os.path.join(OUT, 'kube-proxy-save.txt'), 'w', encoding='utf-8') as f:
    f.write(nsx('iptables-save')[1])

ver = sh(['iptables', '--version'])[1].strip()
with open(os.path.join(OUT, 'CAPTURED-ON.txt'), 'w', encoding='utf-8') as f:
    f.write(f'iptables: {ver}\nuname -r: {os.uname().release}\n')
print(f'{len(results)} rule cases, {len(listing["outputs"])} listings, {len(rres)} restore cases written to {OUT}')
PY
