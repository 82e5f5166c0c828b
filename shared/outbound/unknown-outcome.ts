import { MeshOutcomeUnknownError, type MeshClient, type MeshError, type Tracking } from '../mesh/index.js';
import type { TransferRecord } from './transfer.js';

/** Recovery found something it cannot resolve safely (two messages could be this one); a person must look. */
export class RecoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecoveryError';
  }
}

export type SentMessageEvidence =
  | { readonly kind: 'found'; readonly tracking: Tracking; readonly foundBy: string }
  | { readonly kind: 'ambiguous'; readonly reason: string }
  /**
   * Nothing found. `proven` when at least one look can prove absence: a complete outbox listing, or MESH's own
   * "message does not exist" for the local id. `ways` names the looks that answered.
   */
  | { readonly kind: 'none'; readonly proven: boolean; readonly ways: readonly string[] };

/** The two MESH lookups recovery makes. */
export type OutboxLooks = Pick<MeshClient, 'findByLocalId' | 'listOutbox'>;

/** How far MESH's clock and ours may disagree when matching a recovered message's upload time. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Looks for the MESH message an unfinished first POST may have created, two ways: MESH's tracking by local id
 * (deprecated in the published spec, and its index can lag), and the mailbox's outbox listing since the POST began.
 * A look that fails, whatever MESH answered (403, 400, 5xx), proves nothing about the message: it is raised as an
 * unknown outcome, so the send is retried and never marked failed on its account.
 */
export async function lookForSentMessage(
  client: OutboxLooks,
  record: TransferRecord,
): Promise<SentMessageEvidence> {
  try {
    return await look(client, record);
  } catch (error) {
    throw new MeshOutcomeUnknownError(
      `could not look for the message of a first POST whose outcome is unknown: ${(error as Error).message}`,
      { operation: 'recovery', status: (error as MeshError).status, cause: error },
    );
  }
}

async function look(client: OutboxLooks, record: TransferRecord): Promise<SentMessageEvidence> {
  const ways: string[] = [];
  let proven = false;
  const byLocalId = await client.findByLocalId(record.localId!);
  if (byLocalId.kind === 'ambiguous') {
    return {
      kind: 'ambiguous',
      reason: `more than one MESH message carries local id ${record.localId}; check MESH tracking`,
    };
  }
  ways.push('tracking-by-local-id');
  if (byLocalId.kind === 'found' && isThisTransfersMessage(byLocalId.tracking, record)) {
    return { kind: 'found', tracking: byLocalId.tracking, foundBy: 'tracking-by-local-id' };
  }
  if (byLocalId.kind === 'none' && byLocalId.proven) proven = true;
  const since = new Date(Date.parse(record.postStartedAt!) - CLOCK_SKEW_MS);
  const listing = await client.listOutbox(since);
  if (listing.kind === 'listed') {
    const matches = listing.messages.filter(
      (t) => t.localId === record.localId && isThisTransfersMessage(t, record),
    );
    if (matches.length > 1) {
      return {
        kind: 'ambiguous',
        reason: `the outbox lists ${matches.length} messages with local id ${record.localId}; check MESH tracking`,
      };
    }
    if (matches.length === 1) return { kind: 'found', tracking: matches[0]!, foundBy: 'outbox-listing' };
    ways.push('outbox-listing');
    // A listing cut short by its page limit proves nothing about the messages it did not show.
    if (listing.complete) proven = true;
  }
  return { kind: 'none', proven, ways };
}

/**
 * A local id the user chose may have been used before: the message found must also match this transfer's
 * recipient, workflow and file name, and have been uploaded after this transfer's first POST began.
 */
function isThisTransfersMessage(t: Tracking, record: TransferRecord): boolean {
  const uploadedAt = t.uploadTimestamp ? parseMeshTime(t.uploadTimestamp) : undefined;
  const postStarted = Date.parse(record.postStartedAt!);
  return (
    (!t.localId || t.localId === record.localId) &&
    (!t.recipient || t.recipient.toUpperCase() === record.recipient?.toUpperCase()) &&
    (!t.workflowId || t.workflowId === record.workflowId) &&
    (!t.fileName || t.fileName === record.fileName) &&
    (uploadedAt === undefined || uploadedAt >= postStarted - CLOCK_SKEW_MS)
  );
}

/** MESH times are ISO 8601 or `yyyyMMddHHmmss` (UTC); undefined when neither. */
export function parseMeshTime(value: string): number | undefined {
  const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (compact) {
    const [y, mo, d, h, mi, se] = compact.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    return Date.UTC(y, mo - 1, d, h, mi, se);
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}
