/** A durable timer waiting to fire. */
export interface PendingTimer {
  instanceId: string;
  generation: number;
  timerId: number;
  fireAt: Date;
}

/** Durable timers ordered by fire time (a binary heap: thousands of instances may each hold one). */
export class TimerQueue {
  private readonly heap: PendingTimer[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The earliest timer, without removing it. */
  peek(): PendingTimer | undefined {
    return this.heap[0];
  }

  push(timer: PendingTimer): void {
    this.heap.push(timer);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.time(parent) <= this.time(i)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns every timer due at or before `now`, earliest first. */
  popDue(now: Date): PendingTimer[] {
    const due: PendingTimer[] = [];
    while (this.heap.length > 0 && this.time(0) <= now.getTime()) {
      const top = this.pop();
      if (top) due.push(top);
    }
    return due;
  }

  /** Drops every timer of an instance (purge, restart). */
  removeInstance(instanceId: string): void {
    const kept = this.heap.filter((t) => t.instanceId !== instanceId);
    this.heap.length = 0;
    for (const timer of kept) this.push(timer);
  }

  clear(): void {
    this.heap.length = 0;
  }

  private pop(): PendingTimer | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (this.heap.length > 0 && last) {
      this.heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < this.heap.length && this.time(left) < this.time(smallest)) smallest = left;
        if (right < this.heap.length && this.time(right) < this.time(smallest)) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }

  private time(i: number): number {
    return this.heap[i]?.fireAt.getTime() ?? Infinity;
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a];
    const y = this.heap[b];
    if (x === undefined || y === undefined) return;
    this.heap[a] = y;
    this.heap[b] = x;
  }
}
