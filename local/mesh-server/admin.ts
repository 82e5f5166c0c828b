/**
 * Test-only operations: reset, reports, expiry, faults and introspection. The HTTP admin endpoints and
 * `RunningMeshServer.admin` both call these, so tests can use whichever is closer to hand.
 */
import { createHash } from 'node:crypto';
import {
  addMailbox,
  listMailboxes,
  type AdminMailboxInput,
  type AdminMailboxView,
} from './admin-mailboxes.js';
import { seedMessage, seedMessages, type AdminSeedInput, type AdminSeedResult } from './admin-seed.js';
import { AdminRequestError } from './errors.js';
import type { FaultRule, FaultRuleState } from './faults.js';
import type { ServerState } from './handlers/context.js';
import type { InboxListing } from './inbox-listings.js';
import {
  NOT_COLLECTED,
  TRANSFERRED,
  type MessageRecord,
  type MessageStatus,
  type MessageType,
  type StoredChunk,
} from './message.js';
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

/**
 * Body of `POST /admin/inject`: a hostile message put straight into `recipient`'s inbox, shaped in ways the send
 * path refuses (MESH checks headers and gzip at send time; a hostile or broken MESH might not). Test-only.
 */
export interface AdminInjectInput {
  recipient: string;
  /** @default 'DATA' */
  message_type?: MessageType;
  /** @default 'TEST_WORKFLOW' */
  workflow_id?: string;
  /** `mex-From`. @default the recipient */
  from?: string;
  /**
   * Header overrides on HEAD and every download of the message; `null` removes the server's own header. Values go
   * on the wire byte for byte as UTF-8, including characters HTTP forbids (NUL, CR, LF).
   */
  headers?: Record<string, string | null>;
  /** Extra overrides on the download (GET only, never HEAD) of chunk k+1, at index k. */
  chunk_headers?: Record<string, string | null>[];
  /** Each chunk's bytes as stored, base64; served exactly as given. A DATA message needs at least one. */
  chunks?: string[];
  /** `Content-Encoding` sent with every chunk (e.g. `gzip` over bytes that are not gzip). */
  content_encoding?: string;
  /** The N of every `mex-Chunk-Range: n:N` and `mex-Total-Chunks`, whatever the number of chunks stored. */
  claimed_total_chunks?: number;
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
  /** Puts a hostile message, as described, into an inbox; it is served verbatim (see AdminInjectInput). */
  injectMessage(input: AdminInjectInput): Promise<{ message_id: string }>;
  /** Expires an accepted message now: undeliverable, plus a code-14 REPORT in the sender's inbox. */
  expireMessage(messageId: string): Promise<{ message_id: string; report_id?: string }>;
  /** Expires every accepted data message whose `expiry_time` has passed by the server clock. */
  expireDue(): Promise<{ expired: string[] }>;
  setFaults(rules: FaultRule[]): Promise<void>;
  /** Sent messages stay invisible to tracking by local id and to the outbox listing for this long after upload. */
  setTrackingLag(ms: number): Promise<void>;
  clearFaults(): Promise<void>;
  listFaults(): Promise<FaultRuleState[]>;
  getMessage(messageId: string): Promise<AdminMessageView | undefined>;
  /**
   * Every message, or those matching the filter, in the order they were created; `created_at` is when it was
   * uploaded, `accepted_at` when it entered the inbox. One call for a benchmark's arrival times.
   */
  listMessages(filter?: AdminMessageFilter): Promise<AdminMessageView[]>;
  stats(): Promise<MeshServerStats>;
  /**
   * Adds a mailbox at run time (see admin-mailboxes.ts); the same settings again change nothing, others get 409.
   * Its client certificate is any the server's CA issued for its CN.
   */
  addMailbox(input: AdminMailboxInput): Promise<{ id: string; added: boolean }>;
  /** Every mailbox the server knows, without passwords. */
  listMailboxes(): Promise<AdminMailboxView[]>;
  /**
   * Every inbox page served (answered 200), by the server clock: `page` is `first` for a new listing (a poll) and
   * `continuation` for a `continue_from` page. All mailboxes in time order, or one mailbox's.
   */
  inboxListings(mailboxId?: string, opts?: { since?: Date }): Promise<InboxListing[]>;
  /** Stores a message as if `from` had sent it to `to`: accepted, in the inbox, without HTTP. */
  seedMessage(input: AdminSeedInput): Promise<AdminSeedResult>;
  /** Seeds many messages (all checked first); each inbox receives them in the order given. */
  seedMessages(inputs: AdminSeedInput[]): Promise<AdminSeedResult[]>;
}

/** Which messages `listMessages` returns; all when empty. */
export interface AdminMessageFilter {
  recipient?: string;
  sender?: string;
  status?: MessageStatus;
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

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkHeaderMap(value: unknown, where: string, problems: string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${where} must be an object of header name to string or null`);
    return;
  }
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!HEADER_NAME.test(name)) problems.push(`${where}: "${name}" is not a header name`);
    if (v !== null && typeof v !== 'string') problems.push(`${where}.${name} must be a string or null`);
  }
}

function checkInjectInput(input: unknown): AdminInjectInput {
  const problems: string[] = [];
  const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof body['recipient'] !== 'string' || body['recipient'] === '')
    problems.push('recipient is required');
  for (const key of ['workflow_id', 'from', 'content_encoding']) {
    if (body[key] !== undefined && typeof body[key] !== 'string') problems.push(`${key} must be a string`);
  }
  const type = body['message_type'] ?? 'DATA';
  if (type !== 'DATA' && type !== 'REPORT') problems.push('message_type must be "DATA" or "REPORT"');
  checkHeaderMap(body['headers'], 'headers', problems);
  const chunkHeaders = body['chunk_headers'];
  if (chunkHeaders !== undefined) {
    if (!Array.isArray(chunkHeaders)) problems.push('chunk_headers must be an array');
    else chunkHeaders.forEach((h, i) => checkHeaderMap(h, `chunk_headers[${i}]`, problems));
  }
  const chunks = body['chunks'] ?? [];
  if (!Array.isArray(chunks) || chunks.some((c) => typeof c !== 'string' || !BASE64.test(c))) {
    problems.push('chunks must be an array of base64 strings');
  } else if (type === 'DATA' && chunks.length === 0) {
    problems.push('a DATA message needs at least one chunk');
  } else if (type === 'REPORT' && chunks.length > 0) {
    problems.push('a REPORT has no chunks');
  }
  const claimed = body['claimed_total_chunks'];
  if (claimed !== undefined && (!Number.isInteger(claimed) || (claimed as number) < 0)) {
    problems.push('claimed_total_chunks must be a whole number');
  }
  if (problems.length > 0) throw new AdminRequestError(400, problems.join('; '));
  return body as unknown as AdminInjectInput;
}

const lowercaseKeys = (headers: Record<string, string | null> = {}) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

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
      state.listings.clear();
      state.tracking.lagMs = config.trackingLagMs;
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
    async injectMessage(raw) {
      const input = checkInjectInput(raw);
      const recipient = input.recipient.toUpperCase();
      if (!config.mailboxes.has(recipient)) throw new AdminRequestError(404, `no mailbox ${recipient}`);
      const messageId = mailroom.newMessageId();
      const at = config.now().toISOString();
      const chunks: StoredChunk[] = [];
      for (const [index, encoded] of (input.chunks ?? []).entries()) {
        const bytes = Buffer.from(encoded, 'base64');
        const writer = await mailroom.store.openChunkWriter(messageId, index + 1);
        await writer.write(bytes);
        await writer.commit();
        chunks.push({
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          storedAt: at,
        });
      }
      const type = input.message_type ?? 'DATA';
      const record: MessageRecord = {
        messageId,
        messageType: type,
        recipient,
        fromHeader: input.from ?? recipient,
        toHeader: recipient,
        workflowId: input.workflow_id ?? 'TEST_WORKFLOW',
        fileName: type === 'REPORT' ? '' : `${messageId}.dat`,
        contentType: 'application/octet-stream',
        contentCompressed: false,
        contentEncrypted: false,
        totalChunks: chunks.length,
        chunks,
        status: 'uploading',
        statusAt: at,
        createdAt: at,
        injected: {
          headers: lowercaseKeys(input.headers),
          chunkHeaders: (input.chunk_headers ?? []).map(lowercaseKeys),
          contentEncoding: input.content_encoding,
          claimedTotalChunks: input.claimed_total_chunks,
        },
      };
      await mailroom.add(record);
      await mailroom.accept(
        record,
        type === 'REPORT' ? { ...NOT_COLLECTED, description: 'Injected report' } : TRANSFERRED,
      );
      return { message_id: messageId };
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
    async setTrackingLag(ms) {
      if (!Number.isSafeInteger(ms) || ms < 0)
        throw new AdminRequestError(400, 'lag must be whole milliseconds');
      state.tracking.lagMs = ms;
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
    async listMessages(filter = {}) {
      const recipient = filter.recipient?.toUpperCase();
      const sender = filter.sender?.toUpperCase();
      const records = sender !== undefined ? mailroom.sentBy(sender) : [...mailroom.all()];
      return records
        .filter(
          (r) =>
            (recipient === undefined || r.recipient === recipient) &&
            (filter.status === undefined || r.status === filter.status),
        )
        .map(messageView);
    },
    async stats() {
      return stats.snapshot(mailroom.all(), config.mailboxes.keys());
    },
    async addMailbox(input) {
      return addMailbox(config, input);
    },
    async listMailboxes() {
      return listMailboxes(config);
    },
    async inboxListings(mailboxId, opts = {}) {
      return state.listings.list({ mailbox: mailboxId, since: opts.since });
    },
    async seedMessage(input) {
      return seedMessage(state, input);
    },
    async seedMessages(inputs) {
      return seedMessages(state, inputs);
    },
  };
}
