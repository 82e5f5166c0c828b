/** Typed in-memory stand-ins for the mailbox gate's ports. */
import type { MailboxRecord } from '../../../../shared/registry/mailbox.js';
import type { MailboxSlot, MailboxSlots } from '../../../../shared/registry/mailbox-slots.js';

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
