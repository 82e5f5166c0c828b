import type { MailboxRecord } from './mailbox.js';
import type { MailboxSlot, MailboxSlots } from './mailbox-slots.js';

export type Admission =
  /** Work may go ahead; call `release` when done, whatever happens. */
  | { readonly kind: 'admitted'; release(): Promise<void> }
  /** The mailbox is paused: the task waits, unchanged, for it to resume. */
  | { readonly kind: 'paused' }
  /** The mailbox already has its cap of tasks running: the task waits a little. */
  | { readonly kind: 'busy' }
  /** Not registered: the task goes ahead, and the use case refuses it with its own reason. */
  | { readonly kind: 'unregistered'; release(): Promise<void> };

/**
 * Decides whether a task of a mailbox may run now. Shared queues with the mailbox as message group keep one
 * mailbox's backlog from delaying another's tasks; this keeps one mailbox from taking every concurrent invocation
 * (and MESH from seeing more than `concurrency` parallel transfers from one mailbox).
 */
export class MailboxGate {
  constructor(
    private readonly mailbox: (id: string) => Promise<MailboxRecord | undefined>,
    private readonly slots: Pick<MailboxSlots, 'acquire' | 'release'>,
    /** Concurrent tasks per mailbox (MAILBOX_CONCURRENCY). */
    private readonly concurrency: number,
  ) {}

  /** `leaseMs`: how long the slot is held at most (the invocation's time left plus grace), so a crash frees it. */
  async admit(mailboxId: string, holder: string, leaseMs: number): Promise<Admission> {
    const record = await this.mailbox(mailboxId);
    if (!record) return { kind: 'unregistered', release: async () => undefined };
    if (record.paused) return { kind: 'paused' };
    const slot = await this.slots.acquire(mailboxId, holder, this.concurrency, leaseMs);
    if (!slot) return { kind: 'busy' };
    return { kind: 'admitted', release: () => this.release(slot) };
  }

  private async release(slot: MailboxSlot): Promise<void> {
    await this.slots.release(slot);
  }
}
