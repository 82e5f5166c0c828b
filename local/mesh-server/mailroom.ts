/**
 * The server's state: every message record (kept in memory, persisted through the store), each mailbox's inbox
 * in acceptance order, and the lifecycle transitions between MESH statuses.
 */
import { createMessageId } from './message-id.js';
import { TRANSFERRED, type MessageOutcome, type MessageRecord } from './message.js';
import type { MessageStore } from './store/types.js';
import { DAY_MS } from './time.js';

/** Real MESH drops uncollected messages from the inbox after five days. */
export const INBOX_RETENTION_MS = 5 * DAY_MS;

export interface NewReport {
  recipient: string;
  workflowId: string;
  outcome: Omit<MessageOutcome, 'at'>;
  fromHeader: string;
  toHeader: string;
  linkedMessageId?: string;
  localId?: string;
  subject?: string;
}

export class Mailroom {
  private readonly records = new Map<string, MessageRecord>();
  /** Accepted messages per recipient; a Map keeps insertion order, which is acceptance order. */
  private readonly inboxes = new Map<string, Map<string, MessageRecord>>();
  /** Every message each mailbox sent, in upload order, so tracking and the outbox never scan all messages. */
  private readonly outboxes = new Map<string, Map<string, MessageRecord>>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private nextSeq = 1;

  constructor(
    readonly store: MessageStore,
    private readonly now: () => Date,
  ) {}

  async init(): Promise<void> {
    const loaded = await this.store.load();
    loaded.sort((a, b) => (a.inboxSeq ?? 0) - (b.inboxSeq ?? 0));
    for (const record of loaded) {
      this.records.set(record.messageId, record);
      this.index(record);
      if (record.status === 'accepted') this.inboxOf(record.recipient).set(record.messageId, record);
      this.nextSeq = Math.max(this.nextSeq, (record.inboxSeq ?? 0) + 1);
    }
  }

  get(messageId: string): MessageRecord | undefined {
    return this.records.get(messageId);
  }

  all(): IterableIterator<MessageRecord> {
    return this.records.values();
  }

  newMessageId(): string {
    for (;;) {
      const id = createMessageId(this.now());
      if (!this.records.has(id)) return id;
    }
  }

  /** Accepted messages in a mailbox's inbox, oldest first. */
  inbox(mailbox: string): IterableIterator<MessageRecord> {
    return (this.inboxes.get(mailbox) ?? new Map<string, MessageRecord>()).values();
  }

  inboxSize(mailbox: string): number {
    return this.inboxes.get(mailbox)?.size ?? 0;
  }

  /** What the mailbox sent, in upload order: its own index, not a scan of every message. */
  sentBy(mailbox: string): MessageRecord[] {
    return [...(this.outboxes.get(mailbox)?.values() ?? [])];
  }

  /** Runs `fn` with no other locked operation on the same message in between. */
  async withLock<T>(messageId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(messageId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(messageId, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(messageId) === settled) this.locks.delete(messageId);
    }
  }

  async add(record: MessageRecord): Promise<void> {
    this.records.set(record.messageId, record);
    this.index(record);
    await this.store.saveRecord(record);
  }

  /**
   * Stores a complete message straight into its recipient's inbox, as if it had been sent and finalised at this
   * instant (upload and acceptance times alike), with one write of its record: for seeding benchmarks. Its chunks
   * must already be in the store.
   */
  async seed(record: MessageRecord): Promise<void> {
    const at = this.now();
    record.status = 'accepted';
    record.statusAt = at.toISOString();
    record.createdAt = record.statusAt;
    record.acceptedAt = record.statusAt;
    for (const chunk of record.chunks) if (chunk) chunk.storedAt = record.statusAt;
    record.expiresAt = new Date(at.getTime() + INBOX_RETENTION_MS).toISOString();
    record.outcome = { ...TRANSFERRED, at: record.statusAt };
    record.inboxSeq = this.nextSeq++;
    this.records.set(record.messageId, record);
    this.index(record);
    this.inboxOf(record.recipient).set(record.messageId, record);
    await this.store.saveRecord(record);
  }

  async save(record: MessageRecord): Promise<void> {
    if (this.records.get(record.messageId) === record) await this.store.saveRecord(record);
  }

  /** Puts the message into the recipient's inbox. */
  async accept(record: MessageRecord, outcome: Omit<MessageOutcome, 'at'> = TRANSFERRED): Promise<void> {
    const at = this.now();
    record.status = 'accepted';
    record.statusAt = at.toISOString();
    record.acceptedAt = record.statusAt;
    record.expiresAt = new Date(at.getTime() + INBOX_RETENTION_MS).toISOString();
    record.outcome = { ...outcome, at: record.statusAt };
    record.inboxSeq = this.nextSeq++;
    this.inboxOf(record.recipient).set(record.messageId, record);
    await this.save(record);
  }

  async acknowledge(record: MessageRecord): Promise<void> {
    record.status = 'acknowledged';
    record.statusAt = this.now().toISOString();
    record.acknowledgedAt = record.statusAt;
    this.inboxes.get(record.recipient)?.delete(record.messageId);
    await this.save(record);
  }

  /** Takes the message out of the inbox for good; downloads then answer 410. */
  async markFailed(
    record: MessageRecord,
    outcome: Omit<MessageOutcome, 'at'>,
    status: 'undeliverable' | 'error' = 'undeliverable',
  ): Promise<void> {
    record.status = status;
    record.statusAt = this.now().toISOString();
    record.outcome = { ...outcome, at: record.statusAt };
    this.inboxes.get(record.recipient)?.delete(record.messageId);
    await this.save(record);
  }

  /** A REPORT from MESH itself: empty body, no chunks, straight into the recipient's inbox. */
  async addReport(spec: NewReport): Promise<MessageRecord> {
    const at = this.now().toISOString();
    const report: MessageRecord = {
      messageId: this.newMessageId(),
      messageType: 'REPORT',
      recipient: spec.recipient,
      fromHeader: spec.fromHeader,
      toHeader: spec.toHeader,
      workflowId: spec.workflowId,
      subject: spec.subject,
      localId: spec.localId,
      fileName: '',
      contentType: 'application/octet-stream',
      contentCompressed: false,
      contentEncrypted: false,
      totalChunks: 0,
      chunks: [],
      linkedMessageId: spec.linkedMessageId,
      status: 'uploading',
      statusAt: at,
      createdAt: at,
    };
    await this.add(report);
    await this.accept(report, spec.outcome);
    return report;
  }

  async remove(messageId: string): Promise<void> {
    const record = this.records.get(messageId);
    if (!record) return;
    this.records.delete(messageId);
    this.inboxes.get(record.recipient)?.delete(messageId);
    if (record.sender) this.outboxes.get(record.sender)?.delete(messageId);
    await this.store.deleteMessage(messageId);
  }

  async reset(): Promise<void> {
    this.records.clear();
    this.inboxes.clear();
    this.outboxes.clear();
    await this.store.clear();
  }

  /** Empties one mailbox's inbox and outbox. */
  async resetMailbox(mailbox: string): Promise<void> {
    const doomed = [...this.records.values()].filter((r) => r.recipient === mailbox || r.sender === mailbox);
    for (const record of doomed) await this.remove(record.messageId);
  }

  private index(record: MessageRecord): void {
    if (!record.sender) return;
    let outbox = this.outboxes.get(record.sender);
    if (!outbox) this.outboxes.set(record.sender, (outbox = new Map()));
    outbox.set(record.messageId, record);
  }

  private inboxOf(mailbox: string): Map<string, MessageRecord> {
    let inbox = this.inboxes.get(mailbox);
    if (!inbox) this.inboxes.set(mailbox, (inbox = new Map()));
    return inbox;
  }
}
