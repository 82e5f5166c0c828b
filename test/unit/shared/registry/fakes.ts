/** Typed in-memory stand-ins for the mailbox gate's ports. */
import type { MailboxRecord } from '../../../../shared/registry/mailbox.js';
import type { MailboxSlot, MailboxSlots } from '../../../../shared/registry/mailbox-slots.js';
import type {
  ParkedMailbox,
  ParkedTask,
  ParkedTasks,
  TaskToPark,
} from '../../../../shared/registry/parked-tasks.js';

export function mailbox(id: string, overrides: Partial<MailboxRecord> = {}): MailboxRecord {
  return {
    id,
    routes: [],
    pollIntervalSeconds: 300,
    secretId: `mesh/${id}`,
    paused: false,
    createdAt: '2026-11-21T10:00:00.000Z',
    updatedAt: '2026-11-21T10:00:00.000Z',
    ...overrides,
  };
}

/** Slots held in memory: `cap` per mailbox, each by one holder, leases ignored. */
export class FakeSlots implements Pick<MailboxSlots, 'acquire' | 'release'> {
  readonly held = new Map<string, MailboxSlot>();
  readonly acquired: { mailboxId: string; holder: string; cap: number; leaseMs: number }[] = [];
  readonly released: MailboxSlot[] = [];

  async acquire(mailboxId: string, holder: string, cap: number, leaseMs: number) {
    this.acquired.push({ mailboxId, holder, cap, leaseMs });
    for (let slot = 0; slot < cap; slot++) {
      const key = `${mailboxId}#${slot}`;
      if (!this.held.has(key)) {
        const taken = { mailboxId, slot, holder };
        this.held.set(key, taken);
        return taken;
      }
    }
    return undefined;
  }

  async release(slot: MailboxSlot) {
    this.released.push(slot);
    const key = `${slot.mailboxId}#${slot.slot}`;
    if (this.held.get(key)?.holder === slot.holder) this.held.delete(key);
  }

  heldBy(mailboxId: string): string[] {
    return [...this.held.values()].filter((s) => s.mailboxId === mailboxId).map((s) => s.holder);
  }
}

/** The registry as the gate sees it: records by id. */
export function lookup(...records: MailboxRecord[]): (id: string) => Promise<MailboxRecord | undefined> {
  return async (id) => records.find((r) => r.id === id);
}

/** Tasks set aside in memory, in the order ParkedTasks keeps them: continuations first, then oldest first. */
export class FakeParkedTasks implements Pick<
  ParkedTasks,
  'park' | 'remove' | 'next' | 'mailboxes' | 'forgetMailbox'
> {
  readonly tasks: ParkedTask[] = [];
  readonly index = new Map<string, string>();
  private clock = 0;

  async park(task: TaskToPark): Promise<ParkedTask> {
    const parkedAt = ++this.clock;
    const parked = {
      ...task,
      parkedAt,
      place: `${task.first ? 0 : 1}#${String(parkedAt).padStart(15, '0')}`,
    };
    this.tasks.push(parked);
    this.tasks.sort((a, b) => a.place.localeCompare(b.place));
    this.index.set(task.mailboxId, `token-${parkedAt}`);
    return parked;
  }

  async remove(mailboxId: string, place: string): Promise<void> {
    const at = this.tasks.findIndex((t) => t.mailboxId === mailboxId && t.place === place);
    if (at >= 0) this.tasks.splice(at, 1);
  }

  async next(mailboxId: string, limit: number): Promise<ParkedTask[]> {
    return this.tasks.filter((t) => t.mailboxId === mailboxId).slice(0, limit);
  }

  async mailboxes(): Promise<ParkedMailbox[]> {
    return [...this.index].map(([mailboxId, token]) => ({ mailboxId, token }));
  }

  async forgetMailbox(mailbox: ParkedMailbox): Promise<void> {
    if (this.index.get(mailbox.mailboxId) === mailbox.token) this.index.delete(mailbox.mailboxId);
  }

  of(mailboxId: string): string[] {
    return this.tasks.filter((t) => t.mailboxId === mailboxId).map((t) => t.body);
  }
}
