/**
 * A queue of work grouped by owner and served round-robin: an instance that fans out to 10,000 activities gets one
 * turn in the worker pool like every other instance, instead of starving the ones queued after it.
 */
export class FairQueue<T> {
  private readonly queues = new Map<string, T[]>();
  private readonly ring: string[] = [];
  private ringHead = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(owner: string, item: T): void {
    const queue = this.queues.get(owner);
    if (queue) queue.push(item);
    else {
      this.queues.set(owner, [item]);
      this.ring.push(owner);
    }
    this.count++;
  }

  /** The next item, taking owners in turn. */
  take(): T | undefined {
    while (this.ringHead < this.ring.length) {
      const owner = this.ring[this.ringHead++] ?? "";
      const queue = this.queues.get(owner);
      const item = queue?.shift();
      if (item === undefined || !queue) {
        this.queues.delete(owner);
        continue;
      }
      this.count--;
      if (queue.length > 0) this.ring.push(owner);
      else this.queues.delete(owner);
      this.compact();
      return item;
    }
    return undefined;
  }

  private compact(): void {
    // Drop the consumed prefix of the ring now and then, so it does not grow without bound.
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring.splice(0, this.ringHead);
      this.ringHead = 0;
    }
  }
}
