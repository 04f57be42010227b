// What a flanneld did to its node, in order, as the shell commands that do the same thing: `ip link add …`,
// `ip addr add …`, `ip neigh replace …`, `bridge fdb replace …`, `ip route replace …`,
// `iptables -t nat -N …`, `iptables-restore --noflush` with its input. flanneld speaks netlink (and runs iptables
// itself); the command forms are what iproute2 sends as the same netlink request, so the list can be replayed in
// real namespaces.
// A failed operation stays in the list with the error text, as flanneld logs it and carries on.

export interface FlannelOp {
  /** The command line (without `ip netns exec …`). */
  cmd: string;
  /** Standard input (iptables-restore's payload). */
  input?: string;
  /** The error the operation met, when it failed. */
  error?: string;
}

export class OpLog {
  readonly ops: FlannelOp[] = [];

  /** Applies `fn` and records `cmd`; a failure is recorded and rethrown. */
  run<T>(cmd: string, fn: () => T, input?: string): T {
    const op: FlannelOp = { cmd, ...(input !== undefined ? { input } : {}) };
    this.ops.push(op);
    try {
      return fn();
    } catch (e) {
      op.error = e instanceof Error ? e.message : String(e);
      throw e;
    }
  }

  /** Like `run`, but a failure only ends up in the record (flanneld logs it and goes on); true on success. */
  attempt(cmd: string, fn: () => void): boolean {
    try {
      this.run(cmd, fn);
      return true;
    } catch {
      return false;
    }
  }

  /** The command lines, one per operation (iptables-restore's input as a here-document). */
  commands(): string[] {
    return this.ops.map((o) => (o.input !== undefined ? `${o.cmd} <<'EOF'\n${o.input}EOF` : o.cmd));
  }
}
