// The pod lifecycle a kubelet reports, driven by the networking side instead of a container runtime:
//  - Pending until the pod is bound to a node and `podStarted(pod, ip)` says its sandbox is up (the CNI ADD ran):
//    then Running with status.podIP/podIPs, hostIP (the node's InternalIP), startTime and the conditions
//    Initialized, Ready, ContainersReady, PodScheduled. Ready is True unless the pod carries the annotation
//    `podwire.io/ready: "false"` (what a failing readiness probe would do); changing the annotation on a running pod
//    flips the condition, like a probe that starts or stops failing.
//  - Deleting a running pod is graceful: deletionTimestamp (now + terminationGracePeriodSeconds) is set and the pod
//    stays, terminating, until `podStopped(pod)` says its sandbox is gone (the CNI DEL ran). A pod that never got
//    an IP has nothing to tear down and is removed at once.
// Limits: no container states, restarts or probes; grace periods are recorded, not timed.

import { parseIpv4 } from '../../wire/addr.js';
import { ApiError, notFound } from '../errors.js';
import { podCondition } from '../pods.js';
import type { ApiStore } from '../store.js';
import type { Pod, PodCondition } from '../types.js';
import { ANNOTATION_READY } from '../types.js';
import { clone, rfc3339 } from '../util.js';

export function wantsReady(pod: Pod): boolean {
  return pod.metadata.annotations?.[ANNOTATION_READY] !== 'false';
}

export class Kubelet {
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: ApiStore,
    private readonly clock: () => number = () => 0,
  ) {}

  start(): void {
    this.unwatch.push(
      this.store.watch('Pod', (ev) => {
        if (ev.type === 'MODIFIED') this.syncReadiness(ev.object);
      }),
    );
  }

  stop(): void {
    for (const u of this.unwatch.splice(0)) u();
  }

  private getPod(namespace: string, name: string): Pod {
    const pod = this.store.get('Pod', namespace, name);
    if (pod === undefined) throw notFound('Pod', name);
    return pod;
  }

  private setCondition(pod: Pod, c: PodCondition): void {
    pod.status ??= {};
    pod.status.conditions ??= [];
    const conds = pod.status.conditions;
    const i = conds.findIndex((x) => x.type === c.type);
    const prev = i >= 0 ? conds[i] : undefined;
    const next: PodCondition = {
      ...c,
      lastTransitionTime: prev?.status === c.status ? prev.lastTransitionTime : this.store.now(),
    };
    if (i >= 0) conds[i] = next;
    else conds.push(next);
  }

  private readiness(pod: Pod, ready: boolean): void {
    const names = pod.spec.containers.map((c) => c.name).join(' ');
    const extra = ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${names}]` };
    this.setCondition(pod, { type: 'Ready', status: ready ? 'True' : 'False', ...extra });
    this.setCondition(pod, { type: 'ContainersReady', status: ready ? 'True' : 'False', ...extra });
  }

  /** The pod's sandbox is up with `ip`: it runs, ready unless its annotation says otherwise. */
  podStarted(namespace: string, name: string, ip: string): Pod {
    const pod = this.getPod(namespace, name);
    if (!pod.spec.nodeName) throw new ApiError('BadRequest', `pod "${name}" is not bound to a node`);
    if (pod.metadata.deletionTimestamp !== undefined)
      throw new ApiError('BadRequest', `pod "${name}" is being deleted`);
    if (parseIpv4(ip) === null) throw new ApiError('BadRequest', `pod IP "${ip}" is not an IPv4 address`);
    const next = clone(pod);
    const node = this.store.get('Node', undefined, pod.spec.nodeName);
    const hostIP = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    next.status ??= {};
    const status = next.status;
    status.phase = 'Running';
    if (hostIP !== undefined) {
      status.hostIP = hostIP;
      status.hostIPs = [{ ip: hostIP }];
    }
    status.podIP = ip;
    status.podIPs = [{ ip }];
    status.startTime ??= this.store.now();
    this.setCondition(next, { type: 'Initialized', status: 'True' });
    this.readiness(next, wantsReady(next));
    this.setCondition(next, { type: 'PodScheduled', status: 'True' });
    const order: PodCondition['type'][] = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
    status.conditions = order.map((t) => podCondition(next, t)).filter((c): c is PodCondition => c !== undefined);
    return this.store.writeStatus(next);
  }

  /** Follows a change of the ready annotation on a running pod. */
  private syncReadiness(pod: Pod): void {
    if (pod.status?.phase !== 'Running') return;
    const want = wantsReady(pod);
    if ((podCondition(pod, 'Ready')?.status === 'True') === want) return;
    const next = clone(pod);
    this.readiness(next, want);
    this.store.writeStatus(next);
  }

  /** Sets (or clears, with undefined) the ready annotation: the pod's readiness follows. */
  setReady(namespace: string, name: string, ready: boolean | undefined): Pod {
    const pod = clone(this.getPod(namespace, name));
    const ann = { ...pod.metadata.annotations };
    if (ready === undefined) delete ann[ANNOTATION_READY];
    else ann[ANNOTATION_READY] = String(ready);
    pod.metadata.annotations = ann;
    this.store.update(pod);
    return this.getPod(namespace, name);
  }

  /** Graceful deletion; returns the terminating pod, or undefined when it was removed at once. */
  deletePod(namespace: string, name: string): Pod | undefined {
    const pod = this.getPod(namespace, name);
    if (pod.metadata.deletionTimestamp !== undefined) return pod;
    if (!pod.status?.podIP) {
      this.store.delete('Pod', namespace, name);
      return undefined;
    }
    const next = clone(pod);
    const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
    next.metadata.deletionTimestamp = rfc3339(this.clock() + grace * 1e9);
    next.metadata.deletionGracePeriodSeconds = grace;
    return this.store.writeStatus(next);
  }

  /** The sandbox of a terminating pod is gone: the pod object goes too. */
  podStopped(namespace: string, name: string): void {
    const pod = this.getPod(namespace, name);
    if (pod.metadata.deletionTimestamp === undefined) {
      throw new ApiError('BadRequest', `pod "${name}" is not being deleted`);
    }
    this.store.delete('Pod', namespace, name);
  }
}
