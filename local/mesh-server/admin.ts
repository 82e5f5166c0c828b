/**
 * Test-only operations: reset, reports, expiry, faults and introspection. The HTTP admin endpoints and
 * `RunningMeshServer.admin` both call these, so tests can use whichever is closer to hand.
 */
import { AdminRequestError } from './errors.js';
import type { FaultRule, FaultRuleState } from './faults.js';
import type { ServerState } from './handlers/context.js';
import { NOT_COLLECTED, type MessageRecord, type MessageStatus, type MessageType } from './message.js';
import type { MeshServerStats } from './stats.js';

/** Body of `POST /admin/report`: a REPORT put straight into `mailbox_id`'s inbox. */
export interface AdminReportInput {
  mailbox_id: string;
  code: string;
  description: string;
  workflow_id: string;
  subject?: string;
  local_id?: string;
  linked_message_id?: string;
  /** What happens to the linked message, if it exists. @default 'error' */
  status?: 'error' | 'undeliverable';
  /** @default 'SEND' */
  event?: string;
}

export interface AdminMessageView {
  message_id: string;
  message_type: MessageType;
  status: MessageStatus;
  sender: string | null;
  recipient: string;
  workflow_id: string;
  local_id: string | null;
  subject: string | null;
  file_name: string;
  content_encoding: string | null;
  total_chunks: number;
  chunks_received: number;
  chunk_sizes: (number | null)[];
  linked_message_id: string | null;
  created_at: string;
  accepted_at: string | null;
  acknowledged_at: string | null;
  expiry_time: string | null;
  status_code: string | null;
  status_event: string | null;
  status_description: string | null;
  status_success: boolean | null;
}

export interface MeshServerAdmin {
  /** Forgets every message, fault rule and counter. */
  reset(): Promise<void>;
  /** Empties one mailbox's inbox and outbox. */
  resetMailbox(mailboxId: string): Promise<void>;
  createReport(input: AdminReportInput): Promise<{ message_id: string }>;
  /** Expires an accepted message now: undeliverable, plus a code-14 REPORT in the sender's inbox. */
  expireMessage(messageId: string): Promise<{ message_id: string; report_id?: string }>;
  /** Expires every accepted data message whose `expiry_time` has passed by the server clock. */
  expireDue(): Promise<{ expired: string[] }>;
  setFaults(rules: FaultRule[]): Promise<void>;
  clearFaults(): Promise<void>;
  listFaults(): Promise<FaultRuleState[]>;
  getMessage(messageId: string): Promise<AdminMessageView | undefined>;
  stats(): Promise<MeshServerStats>;
}

export function messageView(record: MessageRecord): AdminMessageView {
  return {
    message_id: record.messageId,
    message_type: record.messageType,
    status: record.status,
    sender: record.sender ?? null,
    recipient: record.recipient,
    workflow_id: record.workflowId,
    local_id: record.localId ?? null,
    subject: record.subject ?? null,
    file_name: record.fileName,
    content_encoding: record.contentEncoding ?? null,
    total_chunks: record.totalChunks,
    chunks_received: record.chunks.filter(Boolean).length,
    chunk_sizes: record.chunks.map((c) => c?.size ?? null),
    linked_message_id: record.linkedMessageId ?? null,
    created_at: record.createdAt,
    accepted_at: record.acceptedAt ?? null,
    acknowledged_at: record.acknowledgedAt ?? null,
    expiry_time: record.expiresAt ?? null,
    status_code: record.outcome?.code ?? null,
    status_event: record.outcome?.event ?? null,
    status_description: record.outcome?.description ?? null,
    status_success: record.outcome?.success ?? null,
  };
}

const CODE_EVENTS: Readonly<Record<string, string>> = { '02': 'COLLECT', '06': 'TRANSFER', '20': 'RECEIVE' };

function checkReportInput(input: unknown): AdminReportInput {
  const problems: string[] = [];
  const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  for (const key of ['mailbox_id', 'code', 'description', 'workflow_id']) {
    if (typeof body[key] !== 'string' || body[key] === '') problems.push(`${key} is required`);
  }
  for (const key of ['subject', 'local_id', 'linked_message_id', 'event']) {
    if (body[key] !== undefined && typeof body[key] !== 'string') problems.push(`${key} must be a string`);
  }
  if (body['status'] !== undefined && body['status'] !== 'error' && body['status'] !== 'undeliverable') {
    problems.push('status must be "error" or "undeliverable"');
  }
  if (problems.length > 0) throw new AdminRequestError(400, problems.join('; '));
  return body as unknown as AdminReportInput;
}

export function createAdmin(state: ServerState): MeshServerAdmin {
  const { mailroom, stats, faults, config } = state;

  async function expire(messageId: string): Promise<{ message_id: string; report_id?: string }> {
    return mailroom.withLock(messageId, async () => {
      const record = mailroom.get(messageId);
      if (!record) throw new AdminRequestError(404, `no message ${messageId}`);
      if (record.status !== 'accepted') {
        throw new AdminRequestError(
          409,
          `message ${messageId} is ${record.status}; only accepted messages expire`,
        );
      }
      await mailroom.markFailed(record, NOT_COLLECTED);
      stats.count('messagesExpired');
      if (record.messageType !== 'DATA' || !record.sender) return { message_id: messageId };
      const report = await mailroom.addReport({
        recipient: record.sender,
        workflowId: record.workflowId,
        outcome: NOT_COLLECTED,
        fromHeader: record.fromHeader,
        toHeader: record.toHeader,
        linkedMessageId: record.messageId,
        localId: record.localId,
        subject: record.subject,
      });
      stats.count('reportsCreated');
      return { message_id: messageId, report_id: report.messageId };
    });
  }

  return {
    async reset() {
      await mailroom.reset();
      faults.clear();
      stats.reset();
    },
    async resetMailbox(mailboxId) {
      const id = mailboxId.toUpperCase();
      if (!config.mailboxes.has(id)) throw new AdminRequestError(404, `no mailbox ${id}`);
      await mailroom.resetMailbox(id);
    },
    async createReport(raw) {
      const input = checkReportInput(raw);
      const recipient = input.mailbox_id.toUpperCase();
      if (!config.mailboxes.has(recipient)) throw new AdminRequestError(404, `no mailbox ${recipient}`);
      const linked = input.linked_message_id ? mailroom.get(input.linked_message_id) : undefined;
      const outcome = {
        event: input.event ?? CODE_EVENTS[input.code] ?? 'SEND',
        code: input.code,
        description: input.description,
        success: false,
      };
      if (linked?.status === 'accepted' || linked?.status === 'uploading') {
        await mailroom.markFailed(linked, outcome, input.status ?? 'error');
      }
      const report = await mailroom.addReport({
        recipient,
        workflowId: input.workflow_id,
        outcome,
        fromHeader: linked?.fromHeader ?? recipient,
        toHeader: linked?.toHeader ?? '',
        linkedMessageId: input.linked_message_id,
        localId: input.local_id ?? linked?.localId,
        subject: input.subject ?? linked?.subject,
      });
      stats.count('reportsCreated');
      return { message_id: report.messageId };
    },
    expireMessage: expire,
    async expireDue() {
      const now = config.now().getTime();
      const due = [...mailroom.all()].filter(
        (r) =>
          r.messageType === 'DATA' &&
          r.status === 'accepted' &&
          r.expiresAt &&
          Date.parse(r.expiresAt) <= now,
      );
      for (const record of due) await expire(record.messageId);
      return { expired: due.map((r) => r.messageId) };
    },
    async setFaults(rules) {
      faults.set(rules);
    },
    async clearFaults() {
      faults.clear();
    },
    async listFaults() {
      return faults.list();
    },
    async getMessage(messageId) {
      const record = mailroom.get(messageId.toUpperCase());
      return record ? messageView(record) : undefined;
    },
    async stats() {
      return stats.snapshot(mailroom.all(), config.mailboxes.keys());
    },
  };
}
