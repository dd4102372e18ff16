// A promise queue that runs tasks one at a time, in the order they were queued: the store's
// transactions go through one, so that a check (a free seat) and the write that follows it are
// never interleaved with another request's. The line is bounded; past it, tasks are refused.
import { LicenceError } from './errors.js';

/** Runs queued tasks one at a time; a failing task does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** @param maxQueued tasks that may wait (running included) before `run` refuses with E_BUSY. */
  constructor(private readonly maxQueued: number) {}

  /** Tasks queued or running. */
  get size(): number {
    return this.waiting;
  }

  /** Queues `task`; resolves or rejects as it does, once every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.maxQueued) {
      return Promise.reject(new LicenceError('E_BUSY', `${this.waiting} operations are already waiting; try again`));
    }
    this.waiting++;
    const result = this.tail.then(task).finally(() => {
      this.waiting--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  async drain(): Promise<void> {
    await this.tail;
  }
}
