// The scenario's listeners as real sockets: one python3 process per listener inside its lab namespace. TCP:
// accept, read the request (one recv, up to 1 s), send the reply, close — so a client sees the server's FIN right
// after the reply. UDP: recvfrom, sendto the reply, from the bound socket. A reply holding `{peer}` gets the
// client's address as this socket saw it (`ip:port`, from accept or recvfrom) in its place, so a server behind NAT
// can tell which source reached it; a reply without it is sent as it is. Each server exits by itself after its
// lifetime and is killed by the lab in any case; it prints `ready` once bound, so steps never race it.

import { type ChildProcess, spawn } from 'node:child_process';
import type { LabListener } from './types.js';

const SERVER_PY = `
import socket, sys, time
proto, port, reply, addr, life = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4], float(sys.argv[5])
end = time.monotonic() + life
def answer(peer):
    return reply.replace(b'{peer}', ('%s:%d' % (peer[0], peer[1])).encode())
if proto == 'tcp':
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
print('ready', flush=True)
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        if proto == 'tcp':
            c, peer = s.accept()
            c.settimeout(1.0)
            try:
                c.recv(65536)
            except OSError:
                pass
            try:
                c.sendall(answer(peer))
            except OSError:
                pass
            c.close()
        else:
            data, peer = s.recvfrom(65535)
            s.sendto(answer(peer), peer)
    except socket.timeout:
        break
`;

const READY_MS = 5_000;

/** Starts one listener in lab namespace `ns`; resolves when it is bound, rejects naming the listener if not. */
export function startServer(
  ns: string,
  l: LabListener,
  lifeSeconds: number,
  track: (c: ChildProcess) => void,
): Promise<ChildProcess> {
  const what = `${l.proto} listener on ${l.address ?? '0.0.0.0'}:${l.port} in namespace '${l.ns || 'root'}'`;
  const args = ['netns', 'exec', ns, 'python3', '-c', SERVER_PY];
  const child = spawn('ip', [...args, l.proto, String(l.port), l.reply, l.address ?? '0.0.0.0', String(lifeSeconds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      const lastLine = err.trim().split('\n').pop() ?? '';
      reject(new Error(`kernel-lab: ${what} did not start: ${why}${lastLine ? `: ${lastLine}` : ''}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${READY_MS} ms`), READY_MS);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code) => fail(`exited with ${code}`));
  });
}
