import { transferIdFor } from '../outbound/send-transfer.js';
import type { TransferRecord } from '../outbound/transfer.js';
import type { OutboundObjects, RegistryPort, TransferLookup } from './ports.js';

/** How a transfer was found from the reference the operator gave. */
export type TransferFoundBy = 's3-key' | 'transfer-id' | 'message-id' | 'local-id';

export interface FoundTransfers {
  readonly reference: string;
  readonly foundBy: TransferFoundBy;
  /** One for most references; an S3 key uploaded more than once has one per version still known. */
  readonly transfers: readonly TransferRecord[];
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export interface FindTransferDeps {
  readonly transfers: TransferLookup;
  readonly objects: OutboundObjects;
  /** Mailboxes whose local ids are searched when no mailbox is given. */
  readonly registry: Pick<RegistryPort, 'list'>;
  readonly outboundBucket: string;
}

const TRANSFER_ID = /^[0-9a-f]{32}$/;
/** The local id the pipeline gives a transfer sent without `mex-localid`. */
const DEFAULT_LOCAL_ID = /^nmp-([0-9a-f]{32})$/;

/**
 * The S3 key a reference names, if it names one: `outbound/...`, or `s3://{bucket}/outbound/...` of this
 * deployment's outbound bucket.
 */
export function outboundKeyOf(reference: string, outboundBucket: string): string | undefined {
  if (reference.startsWith('outbound/')) return reference;
  const url = /^s3:\/\/([^/]+)\/(outbound\/.+)$/.exec(reference);
  if (!url) return undefined;
  if (url[1] !== outboundBucket) {
    throw new NotFoundError(`${reference} is not in this deployment's outbound bucket (${outboundBucket})`);
  }
  return url[2];
}

/**
 * Finds the outbound transfer(s) a reference names: an S3 key under `outbound/`, a transfer id, a MESH message id
 * or a local id (searched under `mailbox`, or under every registered mailbox when none is given).
 */
export async function findTransfers(
  deps: FindTransferDeps,
  reference: string,
  options: { mailbox?: string } = {},
): Promise<FoundTransfers> {
  const ref = reference.trim();
  if (ref === '') throw new NotFoundError('an empty reference names no transfer');
  const key = outboundKeyOf(ref, deps.outboundBucket);
  if (key !== undefined) return byKey(deps, ref, key);

  if (TRANSFER_ID.test(ref)) {
    const record = await deps.transfers.get(ref);
    if (record) return { reference: ref, foundBy: 'transfer-id', transfers: [record] };
  }
  const byMessage = await deps.transfers.findByMessageId(ref);
  if (byMessage) return { reference: ref, foundBy: 'message-id', transfers: [byMessage] };

  const byLocal = await findByLocalId(deps, ref, options.mailbox);
  if (byLocal.length > 0) return { reference: ref, foundBy: 'local-id', transfers: byLocal };
  throw new NotFoundError(
    `no transfer found for "${ref}" (looked for it as ${TRANSFER_ID.test(ref) ? 'a transfer id, ' : ''}a MESH ` +
      `message id and a local id${options.mailbox ? ` of ${options.mailbox}` : ' of every registered mailbox'})`,
  );
}

/** Exactly one transfer, for operations that act on one. */
export async function findOneTransfer(
  deps: FindTransferDeps,
  reference: string,
  options: { mailbox?: string } = {},
): Promise<TransferRecord> {
  const found = await findTransfers(deps, reference, options);
  if (found.transfers.length > 1) {
    const ids = found.transfers.map((t) => `${t.transferId} (${t.status})`).join(', ');
    throw new NotFoundError(
      `"${reference}" names ${found.transfers.length} transfers: ${ids}; give one transfer id`,
    );
  }
  return found.transfers[0]!;
}

async function byKey(deps: FindTransferDeps, reference: string, key: string): Promise<FoundTransfers> {
  const versions = await deps.objects.versionsOf(key);
  if (versions.length === 0) {
    throw new NotFoundError(
      `no object at s3://${deps.outboundBucket}/${key} (deleted?): give its transfer id or MESH message id instead`,
    );
  }
  const ids = [...new Set(versions.map((v) => transferIdFor(v)))];
  const records = (await Promise.all(ids.map((id) => deps.transfers.get(id)))).filter(
    (r): r is TransferRecord => r !== undefined,
  );
  if (records.length === 0) {
    throw new NotFoundError(
      `no transfer for s3://${deps.outboundBucket}/${key}: the pipeline has not seen ` +
        `${versions.length > 1 ? 'any of its versions' : 'this object'} (was it uploaded under a mailbox's outbound/ prefix, with events on?)`,
    );
  }
  records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { reference, foundBy: 's3-key', transfers: records };
}

async function findByLocalId(
  deps: FindTransferDeps,
  localId: string,
  mailbox: string | undefined,
): Promise<TransferRecord[]> {
  const defaultLocal = DEFAULT_LOCAL_ID.exec(localId);
  if (defaultLocal) {
    const record = await deps.transfers.get(defaultLocal[1]!);
    if (record && (!mailbox || record.sender === mailbox)) return [record];
  }
  const senders = mailbox ? [mailbox] : (await deps.registry.list()).map((m) => m.id);
  const found = await mapLimited(senders, 8, (sender) => deps.transfers.findByLocalId(sender, localId));
  return found.flat();
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}
