import { z } from 'zod';
import { findTransfers, NotFoundError as OperationsNotFound } from '../operations/index.js';
import { mailboxIdSchema } from '../registry/mailbox.js';
import { InboundStore } from '../state/inbound-store.js';
import type { ConsoleDeps } from './deps.js';
import { NotFoundError } from './errors.js';
import { requireMailbox, type ConsoleUser } from './identity.js';
import { parseInput } from './input.js';
import { matchesText, pageSchema, parseCursor, type Page } from './paging.js';
import type { SignedDownload, SignedUpload } from './ports.js';
import { planUpload } from './send.js';
import { messageView, transferView, type MessageView, type TransferView } from './views.js';

export interface MailboxSummary {
  readonly id: string;
  readonly paused: boolean;
  readonly pausedReason?: string;
  /** Registered in the pipeline: a group may name a mailbox that is not (yet). */
  readonly registered: boolean;
}

const outboxQuerySchema = pageSchema.extend({
  status: z
    .enum(['received', 'sending', 'stalled', 'accepted', 'rejected', 'failed', 'delivered', 'undeliverable'])
    .optional(),
  q: z.string().max(200).optional(),
});

const inboxQuerySchema = pageSchema.extend({
  type: z.enum(['DATA', 'REPORT']).optional(),
  sender: z.string().max(100).optional(),
  workflowId: z.string().max(300).optional(),
  q: z.string().max(200).optional(),
});

const messageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,100}$/, 'a MESH message id is letters, digits, _ and -');
const transferIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'a transfer id is 32 hexadecimal characters');

/** The checked mailbox id of a path, and the user's right to it. */
function mailboxOf(user: ConsoleUser, raw: string | undefined): string {
  const id = parseInput(mailboxIdSchema, raw ?? '');
  requireMailbox(user, id);
  return id;
}

/** What every signed-in user does with the mailboxes their groups grant: send, inbox, outbox. */
export class MailboxUseCases {
  constructor(private readonly deps: ConsoleDeps) {}

  async mailboxes(user: ConsoleUser): Promise<MailboxSummary[]> {
    const registered = new Map((await this.deps.registry.list()).map((m) => [m.id, m]));
    return user.mailboxes.map((id) => {
      const record = registered.get(id);
      return {
        id,
        registered: !!record,
        paused: record?.paused ?? false,
        pausedReason: record?.pausedReason,
      };
    });
  }

  /** Checks the request as the pipeline will, records who sent what, and signs the browser's upload. */
  async startUpload(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    body: unknown,
  ): Promise<SignedUpload & { key: string }> {
    const mailboxId = mailboxOf(user, rawMailbox);
    if (!(await this.deps.registry.get(mailboxId))) {
      throw new NotFoundError(`Mailbox ${mailboxId} is not registered in the pipeline, so it cannot send.`);
    }
    const plan = planUpload(mailboxId, body, this.deps.now());
    const signed = await this.deps.signer.upload(plan);
    await this.deps.audit.record({
      subject: user.subject,
      user: user.name,
      action: 'send',
      mailboxId,
      target: plan.key,
      detail: `to ${decodeURIComponent(plan.metadata['mex-to'] ?? '')}, workflow ${decodeURIComponent(plan.metadata['mex-workflowid'] ?? '')}, ${plan.size} bytes`,
    });
    return { ...signed, key: plan.key };
  }

  async outbox(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    query: unknown,
  ): Promise<Page<TransferView>> {
    const mailboxId = mailboxOf(user, rawMailbox);
    const q = parseInput(outboxQuerySchema, query);
    const page = await this.deps.records.transfersOf(mailboxId, {
      cursor: parseCursor(q.cursor),
      limit: q.limit,
      matches: (t) =>
        (!q.status || t.status === q.status) &&
        matchesText(q.q, [
          t.fileName,
          t.recipient,
          t.workflowId,
          t.subject,
          t.localId,
          t.messageId,
          t.transferId,
        ]),
    });
    return { ...page, items: page.items.map(transferView) };
  }

  /** A transfer by id, or by the key the console uploaded it to (the send page follows it so), with its reports. */
  async transfer(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    ref: { transferId?: string; key?: string },
  ): Promise<TransferView & { reports: MessageView[] }> {
    const mailboxId = mailboxOf(user, rawMailbox);
    let record;
    if (ref.key !== undefined) {
      if (!ref.key.startsWith(`outbound/${mailboxId}/`) || ref.key.includes('..')) {
        throw new NotFoundError(`No transfer of mailbox ${mailboxId} at that key.`);
      }
      try {
        record = (await findTransfers(this.deps, ref.key)).transfers[0];
      } catch (error) {
        if (!(error instanceof OperationsNotFound)) throw error;
      }
      // The send page asks this after an upload it could not confirm: whether S3 stored the file decides whether
      // anything will be sent, and so whether sending again would be a second message.
      if (!record && (await this.deps.objects.versionsOf(ref.key)).length === 0) {
        throw new NotFoundError('No file is stored at that key: nothing was sent.', 'not-stored');
      }
      if (!record) throw new NotFoundError('The pipeline has not picked the file up yet.', 'not-picked-up');
    } else {
      record = await this.deps.transfers.get(parseInput(transferIdSchema, ref.transferId ?? ''));
    }
    // A transfer of another mailbox is answered as missing: its existence is not the caller's to know.
    if (!record || record.sender !== mailboxId)
      throw new NotFoundError(`No such transfer from mailbox ${mailboxId}.`);
    const reports = await this.deps.records.reportsAbout(mailboxId, record);
    return { ...transferView(record), reports: reports.map(messageView) };
  }

  async inbox(user: ConsoleUser, rawMailbox: string | undefined, query: unknown): Promise<Page<MessageView>> {
    const mailboxId = mailboxOf(user, rawMailbox);
    const q = parseInput(inboxQuerySchema, query);
    const page = await this.deps.records.messagesOf(mailboxId, {
      cursor: parseCursor(q.cursor),
      limit: q.limit,
      matches: (m) =>
        (!q.type || (m.messageType ?? 'DATA') === q.type) &&
        (!q.sender || m.sender === q.sender.toUpperCase()) &&
        (!q.workflowId || m.workflowId === q.workflowId) &&
        matchesText(q.q, [m.fileName, m.subject, m.sender, m.workflowId, m.messageId, m.localId]),
    });
    return { ...page, items: page.items.map(messageView) };
  }

  async message(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    rawMessageId: string | undefined,
  ): Promise<MessageView & { linkedTransfer?: TransferView }> {
    const mailboxId = mailboxOf(user, rawMailbox);
    const record = await this.messageRecord(mailboxId, rawMessageId);
    const linkedId = record.report?.linkedTransferId;
    const linked = linkedId ? await this.deps.transfers.get(linkedId) : undefined;
    return {
      ...messageView(record),
      linkedTransfer: linked && linked.sender === mailboxId ? transferView(linked) : undefined,
    };
  }

  /** A short-lived link to the stored file, recorded in the audit trail before it is given. */
  async download(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    rawMessageId: string | undefined,
  ): Promise<SignedDownload> {
    const mailboxId = mailboxOf(user, rawMailbox);
    const record = await this.messageRecord(mailboxId, rawMessageId);
    const view = messageView(record);
    if (!view.downloadable || !record.key) {
      throw new NotFoundError(
        `Message ${record.messageId} is ${record.status}: there is no stored file to download yet.`,
      );
    }
    await this.deps.audit.record({
      subject: user.subject,
      user: user.name,
      action: 'download',
      mailboxId,
      target: record.messageId,
      detail: record.fileName,
    });
    return this.deps.signer.download({
      bucket: this.deps.inboundBucket,
      key: record.key,
      versionId: record.versionId,
      fileName: record.fileName ?? `${record.messageId}.dat`,
    });
  }

  private async messageRecord(mailboxId: string, rawMessageId: string | undefined) {
    const messageId = parseInput(messageIdSchema, rawMessageId ?? '');
    const record = await this.deps.inbound.get(InboundStore.idOf(mailboxId, messageId));
    if (!record) throw new NotFoundError(`No message ${messageId} in mailbox ${mailboxId}.`);
    return record;
  }
}
