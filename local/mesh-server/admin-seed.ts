/**
 * Seeding for benchmarks: messages stored as if their sender had sent them (one chunk, accepted, in the
 * recipient's inbox), without HTTP, tokens or TLS. Ten thousand small messages take about a second in memory;
 * with `storeDir` they are ten thousand directories and twenty thousand files, as fast as the disk allows.
 */
import { createHash } from 'node:crypto';
import { AdminRequestError } from './errors.js';
import type { ServerState } from './handlers/context.js';
import type { MessageRecord } from './message.js';

/** One message to seed; the body of `POST /admin/seed` is `{ messages: AdminSeedInput[] }`. */
export interface AdminSeedInput {
  /** The sending mailbox (`mex-From`). */
  from: string;
  /** The recipient mailbox (`mex-To`), whose inbox the message goes into. */
  to: string;
  workflowId: string;
  /** The message bytes, one chunk; a string is UTF-8. Over HTTP: a string, or `bodyBase64` instead. */
  body?: string | Uint8Array;
  bodyBase64?: string;
  subject?: string;
  localId?: string;
  /** @default `<message id>.dat` */
  fileName?: string;
  /** @default `application/octet-stream` */
  contentType?: string;
}

export interface AdminSeedResult {
  message_id: string;
  /** When it was stored, by the server clock: its upload time and the time it entered the inbox alike. */
  created_at: string;
}

/** How many seeded messages are written to the store at once. */
const SEED_CONCURRENCY = 16;

function checkSeedInput(
  state: ServerState,
  raw: unknown,
  where: string,
): { input: AdminSeedInput; bytes: Buffer } {
  const problems: string[] = [];
  const body = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  for (const key of ['from', 'to', 'workflowId']) {
    if (typeof body[key] !== 'string' || body[key] === '') problems.push(`${where}.${key} is required`);
  }
  for (const key of ['subject', 'localId', 'fileName', 'contentType', 'bodyBase64']) {
    if (body[key] !== undefined && typeof body[key] !== 'string')
      problems.push(`${where}.${key} must be a string`);
  }
  let bytes: Buffer | undefined;
  if (typeof body['body'] === 'string') bytes = Buffer.from(body['body'], 'utf8');
  else if (body['body'] instanceof Uint8Array) bytes = Buffer.from(body['body']);
  else if (typeof body['bodyBase64'] === 'string') bytes = Buffer.from(body['bodyBase64'], 'base64');
  if (!bytes || bytes.length === 0) problems.push(`${where}: a non-empty body or bodyBase64 is required`);
  if (problems.length > 0) throw new AdminRequestError(400, problems.join('; '));
  const input = body as unknown as AdminSeedInput;
  const from = input.from.toUpperCase();
  const to = input.to.toUpperCase();
  for (const id of [from, to]) {
    if (!state.config.mailboxes.has(id)) throw new AdminRequestError(404, `no mailbox ${id}`);
  }
  if (state.config.enforceWorkflows) {
    const workflow = state.config.workflows.get(input.workflowId);
    if (!workflow?.senders.includes(from) || !workflow.receivers.includes(to))
      throw new AdminRequestError(400, `${from} to ${to} is not registered for ${input.workflowId}`);
  }
  return { input: { ...input, from, to }, bytes: bytes! };
}

/** Writes the message's one chunk and builds its record; nothing is visible until `deliver`. */
async function prepare(state: ServerState, input: AdminSeedInput, bytes: Buffer): Promise<MessageRecord> {
  const { mailroom, config } = state;
  const messageId = mailroom.newMessageId();
  await mailroom.store.writeNewChunk(messageId, 1, bytes);
  const now = config.now().toISOString();
  return {
    messageId,
    messageType: 'DATA',
    sender: input.from,
    recipient: input.to,
    fromHeader: input.from,
    toHeader: input.to,
    workflowId: input.workflowId,
    subject: input.subject,
    localId: input.localId,
    fileName: input.fileName ?? `${messageId}.dat`,
    contentType: input.contentType ?? 'application/octet-stream',
    contentCompressed: false,
    contentEncrypted: false,
    totalChunks: 1,
    chunks: [{ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), storedAt: now }],
    status: 'uploading',
    statusAt: now,
    createdAt: now,
  };
}

/** Puts the record into its recipient's inbox: in call order, since `mailroom.seed` queues it before awaiting. */
async function deliver(state: ServerState, record: MessageRecord): Promise<AdminSeedResult> {
  await state.mailroom.seed(record);
  state.stats.count('messagesSeeded');
  return { message_id: record.messageId, created_at: record.createdAt };
}

/** Runs `task` on every index, at most `limit` at once, starting them in index order. */
async function inOrder<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

/** Seeds one message; see AdminSeedInput. */
export async function seedMessage(state: ServerState, raw: unknown): Promise<AdminSeedResult> {
  const { input, bytes } = checkSeedInput(state, raw, 'message');
  return deliver(state, await prepare(state, input, bytes));
}

/**
 * Seeds many messages, all checked before any is stored. They enter their inboxes in the order given (chunks are
 * written concurrently first, then the records delivered in order); results come back in that order too.
 */
export async function seedMessages(state: ServerState, raw: unknown): Promise<AdminSeedResult[]> {
  if (!Array.isArray(raw)) throw new AdminRequestError(400, 'messages must be an array');
  const checked = raw.map((item, i) => checkSeedInput(state, item, `messages[${i}]`));
  const records = await inOrder(checked.length, SEED_CONCURRENCY, (i) =>
    prepare(state, checked[i]!.input, checked[i]!.bytes),
  );
  return inOrder(records.length, SEED_CONCURRENCY, (i) => deliver(state, records[i]!));
}
