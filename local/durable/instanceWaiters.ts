import type { InstanceRecord } from "./taskHubStore";

interface InstanceWaiter {
  instanceId: string;
  resolve: (record: InstanceRecord) => void;
  reject: (error: Error) => void;
}

/** Callers waiting for instances to end (waitForInstance): resolved with the final record, or rejected. */
export class InstanceWaiters {
  private waiters: InstanceWaiter[] = [];

  get size(): number {
    return this.waiters.length;
  }

  /** A promise for the instance's end. */
  wait(instanceId: string): Promise<InstanceRecord> {
    return new Promise((resolve, reject) => this.waiters.push({ instanceId, resolve, reject }));
  }

  /** The instance ended: resolves everyone waiting for it. */
  resolve(record: InstanceRecord): void {
    for (const waiter of this.take((id) => id === record.instanceId)) waiter.resolve(record);
  }

  /** The instance will not end (its episodes keep failing): rejects everyone waiting for it. */
  reject(instanceId: string, error: Error): void {
    for (const waiter of this.take((id) => id === instanceId)) waiter.reject(error);
  }

  /** Nothing will end any more (the host stopped, or is stuck): rejects every waiter with its own error. */
  rejectAll(errorFor: (instanceId: string) => Error): void {
    for (const waiter of this.take(() => true)) waiter.reject(errorFor(waiter.instanceId));
  }

  private take(matches: (instanceId: string) => boolean): InstanceWaiter[] {
    const taken = this.waiters.filter((w) => matches(w.instanceId));
    this.waiters = this.waiters.filter((w) => !matches(w.instanceId));
    return taken;
  }
}
