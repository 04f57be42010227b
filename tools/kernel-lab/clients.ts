// The clients a step runs inside its `from` namespace. Ping is iputils ping (`-n -c COUNT -W WAIT [-t TTL]
// [-s SIZE] [-I SRC]`), whose output lines are parsed: `64 bytes from A: icmp_seq=1 ttl=62 …` for replies and
// `From A icmp_seq=1 <reason>` for ICMP errors. ping stops once every request got a reply or an error, so a
// generous -W costs time only when nothing comes back. `connect` is a python3 socket client that prints one JSON
// line: TCP connect with a timeout, send the payload, read until the server closes; UDP send on a connected
// socket with IP_RECVERR set, so that every ICMP error for the flow (not only port unreachable) is reported,
// with its type, code and sender read from the socket's error queue (struct sock_extended_err + offender).

import { type RunResult, run } from './exec.js';
import type { LabConnectStep, LabPingStep } from './types.js';

export interface PingReply {
  from: string;
  seq: number;
  ttl: number;
}

export interface PingError {
  from: string;
  seq: number;
  text: string;
}

export interface PingOutput {
  replies: PingReply[];
  errors: PingError[];
  /** `ping: …` lines on stderr, e.g. `ping: connect: Network is unreachable`. */
  failures: string[];
}

export function pingArgs(step: LabPingStep, waitSeconds: number): string[] {
  const args = ['-n', '-c', String(step.count ?? 1), '-W', String(waitSeconds)];
  if (step.ttl !== undefined) args.push('-t', String(step.ttl));
  if (step.size !== undefined) args.push('-s', String(step.size));
  if (step.src !== undefined) args.push('-I', step.src);
  if (step.df === false) args.push('-M', 'dont');
  args.push(step.to);
  return args;
}

const REPLY = /^\d+ bytes from ([0-9.]+):? icmp_seq=(\d+) ttl=(\d+)/;
const ERROR = /^From ([0-9.]+)(?: \([^)]*\))?:? icmp_seq=(\d+) (.+)$/;

export function parsePing(stdout: string, stderr: string): PingOutput {
  const out: PingOutput = { replies: [], errors: [], failures: [] };
  for (const line of stdout.split('\n')) {
    const r = REPLY.exec(line);
    if (r) {
      out.replies.push({ from: r[1]!, seq: Number(r[2]), ttl: Number(r[3]) });
      continue;
    }
    const e = ERROR.exec(line);
    if (e) out.errors.push({ from: e[1]!, seq: Number(e[2]), text: e[3]!.trim() });
  }
  for (const line of stderr.split('\n')) {
    if (line.startsWith('ping: ')) out.failures.push(line.slice(6).trim());
  }
  return out;
}

/** iputils' texts for ICMP errors, mapped to the names LabStepResult uses. */
export function icmpFromPingText(text: string): string | undefined {
  const t = text.toLowerCase();
  if (t.startsWith('destination net unreachable')) return 'net-unreachable';
  if (t.startsWith('destination host unreachable')) return 'host-unreachable';
  if (t.startsWith('destination protocol unreachable')) return 'proto-unreachable';
  if (t.startsWith('destination port unreachable')) return 'port-unreachable';
  if (t.startsWith('frag needed')) return 'frag-needed';
  if (t.startsWith('time to live exceeded')) return 'time-exceeded';
  if (t.startsWith('frag reassembly time exceeded')) return 'reassembly-time-exceeded';
  if (t.startsWith('packet filtered')) return 'admin-prohibited';
  if (t.startsWith('destination net prohibited')) return 'net-prohibited';
  if (t.startsWith('destination host prohibited')) return 'host-prohibited';
  if (t.startsWith('source route failed')) return 'source-route-failed';
  return undefined;
}

const CONNECT_PY = `
import socket, sys, time, json, errno, select, struct
proto, to, port, payload, src, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode(), sys.argv[5], float(sys.argv[6])
IP_RECVERR = 11
def done(**kw):
    print(json.dumps(kw), flush=True)
    sys.exit(0)
def name(e):
    return errno.errorcode.get(e, str(e))
def errqueue(s):
    try:
        _, anc, _, _ = s.recvmsg(1024, 1024, socket.MSG_ERRQUEUE)
    except OSError:
        return None
    for level, kind, data in anc:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR and len(data) >= 16:
            ee_errno, origin, etype, ecode, _, info, _ = struct.unpack('=IBBBBII', data[:16])
            ee = {'errno': name(ee_errno), 'origin': origin, 'type': etype, 'code': ecode, 'info': info}
            if len(data) >= 24 and struct.unpack('=H', data[16:18])[0] == socket.AF_INET:
                ee['offender'] = socket.inet_ntoa(data[20:24])
            return ee
    return None
if proto == 'tcp':
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.settimeout(wait)
    try:
        s.connect((to, port))
    except socket.timeout:
        done(outcome='timeout')
    except OSError as e:
        done(outcome='error', errno=name(e.errno))
    got = b''
    try:
        s.sendall(payload)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except socket.timeout:
        done(outcome='connected', reply=got.decode('utf-8', 'replace'), note='no EOF before timeout')
    except OSError as e:
        done(outcome='connected', reply=got.decode('utf-8', 'replace'), note=name(e.errno))
    done(outcome='connected', reply=got.decode('utf-8', 'replace'))
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    if src:
        s.bind((src, 0))
    try:
        s.connect((to, port))
        s.send(payload)
    except OSError as e:
        done(outcome='error', errno=name(e.errno), ee=errqueue(s))
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            done(outcome='timeout')
        r, _, _ = select.select([s], [], [], left)
        if not r:
            done(outcome='timeout')
        try:
            data, peer = s.recvfrom(65535)
            done(outcome='connected', reply=data.decode('utf-8', 'replace'), peer=peer[0])
        except OSError as e:
            done(outcome='error', errno=name(e.errno), ee=errqueue(s))
`;

export interface ExtendedErr {
  errno: string;
  /** SO_EE_ORIGIN_*: 2 = ICMP, 1 = local. */
  origin: number;
  type: number;
  code: number;
  info: number;
  offender?: string;
}

export interface ConnectOutput {
  outcome: 'connected' | 'error' | 'timeout';
  reply?: string;
  errno?: string;
  peer?: string;
  note?: string;
  ee?: ExtendedErr | null;
}

export async function runConnect(
  ns: string,
  step: LabConnectStep,
  waitSeconds: number,
  signal: AbortSignal,
): Promise<{ out: ConnectOutput; raw: RunResult }> {
  const args = [step.proto, step.to, String(step.port), step.payload, step.src ?? '', String(waitSeconds)];
  const raw = await run('ip', ['netns', 'exec', ns, 'python3', '-c', CONNECT_PY, ...args], {
    signal,
    timeoutMs: (2 * waitSeconds + 5) * 1000,
  });
  const line = raw.stdout.trim().split('\n').pop() ?? '';
  let out: ConnectOutput;
  try {
    out = JSON.parse(line) as ConnectOutput;
  } catch {
    const why = raw.killed ? `killed (${raw.killed})` : `exit ${raw.code}`;
    throw new Error(`kernel-lab: connect client in ${ns} gave no result (${why}): ${raw.stderr.trim()}`);
  }
  return { out, raw };
}
