import type { Log } from '../observability/ports.js';
import type { GatedQueue, ParkedMailbox, ParkedTask, ParkedTasks, TaskToPark } from './parked-tasks.js';

/** Puts a parked task's message back on its queue, in its mailbox's group, with its deferrals and spent receives. */
export type ResendTask = (
  queue: GatedQueue,
  body: string,
  mailboxId: string,
  deferrals: number,
  receives: number,
) => Promise<void>;

/** What a gated task does when it cannot run yet (see runGated). */
export interface TaskWaiting {
  /** Puts the task back on its queue after `delaySeconds`, carrying the receives it spent: its mailbox is paused. */
  requeue(delaySeconds: number, receives: number): Promise<void>;
  /** Sets the task aside until a task of its mailbox ends, with the receives it spent. */
  park(deferrals: number, receives: number): Promise<ParkedTask>;
  /** Takes a task set aside back (admitted after all). */
  unpark(task: ParkedTask): Promise<void>;
  /** Puts the next task set aside for the mailbox back on its queue: called after giving a slot back. */
  wakeNext(): Promise<void>;
}

/**
 * Wakes tasks set aside while their mailbox was at its cap. A task that ends wakes the next one; the sweep (run by the
 * poller every minute) wakes the rest where a slot is free and no task ended to do it: a holder that crashed, or a
 * wake that failed. A woken task is sent before it is removed, so a crash in between repeats it (every task is
 * idempotent) and never loses it.
 */
export class ParkedTaskWaker {
  constructor(
    private readonly parked: Pick<ParkedTasks, 'next' | 'remove' | 'mailboxes' | 'forgetMailbox'>,
    private readonly resend: ResendTask,
    private readonly log: Log,
  ) {}

  /** Puts up to `count` of the mailbox's tasks set aside back on their queues; returns how many. */
  async wake(mailboxId: string, count: number): Promise<number> {
    if (count <= 0) return 0;
    const tasks = await this.parked.next(mailboxId, count);
    for (const task of tasks) {
      await this.resend(task.queue, task.body, mailboxId, task.deferrals, task.receives ?? 0);
      await this.parked.remove(mailboxId, task.place);
    }
    return tasks.length;
  }

  /**
   * For each mailbox with tasks set aside, wakes as many as it has free slots (a crashed holder's slot is free once
   * its lease lapses) of those set aside at least `minAgeMs` ago; forgets a mailbox that has none left. Returns the
   * mailboxes looked at and the tasks woken.
   */
  async sweep(
    freeSlots: (mailboxId: string) => Promise<number>,
    options: { readonly minAgeMs?: number; readonly now?: number } = {},
  ): Promise<SweepSummary> {
    const summary = { mailboxes: 0, woken: 0 };
    const cutoff = (options.now ?? Date.now()) - (options.minAgeMs ?? 0);
    const mailboxes: ParkedMailbox[] = await this.parked.mailboxes();
    for (const mailbox of mailboxes) {
      summary.mailboxes++;
      const free = await freeSlots(mailbox.mailboxId);
      if (free <= 0) continue;
      const tasks = await this.parked.next(mailbox.mailboxId, free);
      if (tasks.length === 0) {
        await this.parked.forgetMailbox(mailbox);
        continue;
      }
      // A slot is free for a moment between a task ending and the task it woke arriving: a task set aside more
      // recently than the sweep's own period is left to the task ending that will wake it.
      for (const task of tasks.filter((t) => t.parkedAt <= cutoff)) {
        await this.resend(task.queue, task.body, task.mailboxId, task.deferrals, task.receives ?? 0);
        await this.parked.remove(task.mailboxId, task.place);
        summary.woken++;
      }
    }
    if (summary.woken > 0) this.log.info('woke tasks set aside with no task ending to wake them', summary);
    return summary;
  }

  /** The waiting of one received task. */
  waitingOf(
    task: Omit<TaskToPark, 'deferrals' | 'receives'>,
    parked: Pick<ParkedTasks, 'park' | 'remove'>,
    requeue: (delaySeconds: number, receives: number) => Promise<void>,
  ): TaskWaiting {
    return {
      requeue,
      park: (deferrals, receives) => parked.park({ ...task, deferrals, receives }),
      unpark: (p) => parked.remove(p.mailboxId, p.place),
      wakeNext: async () => {
        await this.wake(task.mailboxId, 1);
      },
    };
  }
}

export interface SweepSummary {
  readonly mailboxes: number;
  readonly woken: number;
}

/** The parking of a gated function: where tasks are set aside, and how they are put back on their queues. */
export function createParking(
  parked: ParkedTasks,
  resend: ResendTask,
  log: Log,
): { readonly parked: ParkedTasks; readonly waker: ParkedTaskWaker } {
  return { parked, waker: new ParkedTaskWaker(parked, resend, log) };
}
