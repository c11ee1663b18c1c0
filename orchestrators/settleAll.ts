import type { OrchestrationContext, Task } from "durable-functions";

/** How one task of a group ended. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Waits for every task of a group and reports each one's outcome, like Promise.allSettled. Task.all fails fast on
 * the first failure, so the tasks still running then are awaited one by one: an already scheduled task yielded on
 * its own adds no action. (Re-yielding it inside a new Task.any / Task.all would schedule it again: durable-js sends
 * every child of a new compound task to the extension — azure-functions-durable-js#574 — hence no rolling Task.any.)
 */
export function* settleAll<T>(
  context: OrchestrationContext,
  tasks: readonly Task[],
): Generator<Task, Settled<T>[], unknown> {
  if (tasks.length === 0) return [];
  try {
    yield context.df.Task.all([...tasks]);
  } catch {
    for (const task of tasks) {
      if (task.isCompleted) continue;
      try {
        yield task;
      } catch {
        // Recorded below from the task itself.
      }
    }
  }
  return tasks.map((task) =>
    task.isFaulted ? { ok: false, error: messageOf(task.result) } : { ok: true, value: task.result as T },
  );
}
