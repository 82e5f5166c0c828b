import type { InboundRecord } from '../inbound/inbound-record.js';
import { InboundStore } from '../state/inbound-store.js';
import { mapLimited, NotFoundError } from './find-transfer.js';
import type { InboundLookup, RegistryPort } from './ports.js';

export type MessageFoundBy = 's3-key' | 'message-id';

export interface FoundMessages {
  readonly reference: string;
  readonly foundBy: MessageFoundBy;
  /** One, unless the same MESH message id was received by more than one mailbox (a message to several). */
  readonly messages: readonly InboundRecord[];
}

export interface FindMessageDeps {
  readonly inbound: Pick<InboundLookup, 'get'>;
  /** Mailboxes searched when a bare message id is given without one. */
  readonly registry: Pick<RegistryPort, 'list'>;
  readonly inboundBucket: string;
}

/**
 * The mailbox and MESH message id of an inbound S3 key: `inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILE NAME}`,
 * or a report's `inbound/{MAILBOX}/reports/{MESSAGE ID}.json`. Undefined when the key is not laid out so.
 */
export function inboundKeyParts(key: string): { mailboxId: string; messageId: string } | undefined {
  const report = /^inbound\/([^/]+)\/reports\/([^/]+)\.json$/.exec(key);
  if (report) return { mailboxId: report[1]!, messageId: report[2]! };
  const data = /^inbound\/([^/]+)\/[^/]+\/([^/]+)\/[^/]+$/.exec(key);
  return data ? { mailboxId: data[1]!, messageId: data[2]! } : undefined;
}

/**
 * Finds the inbound message record(s) a reference names: an S3 key under `inbound/` (or `s3://{bucket}/inbound/...`),
 * or a MESH message id, looked up in `mailbox`, or in every registered mailbox when none is given.
 */
export async function findMessages(
  deps: FindMessageDeps,
  reference: string,
  options: { mailbox?: string } = {},
): Promise<FoundMessages> {
  const ref = reference.trim();
  const key = inboundKeyOf(ref, deps.inboundBucket);
  if (key !== undefined) {
    const parts = inboundKeyParts(key);
    if (!parts) {
      throw new NotFoundError(
        `${key} is not laid out as inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILE NAME} or inbound/{MAILBOX}/reports/{MESSAGE ID}.json`,
      );
    }
    const record = await deps.inbound.get(InboundStore.idOf(parts.mailboxId, parts.messageId));
    if (!record) throw new NotFoundError(`no inbound message ${parts.messageId} of ${parts.mailboxId}`);
    return { reference: ref, foundBy: 's3-key', messages: [record] };
  }
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(ref)) {
    throw new NotFoundError(`"${ref}" is neither an inbound S3 key nor a MESH message id`);
  }
  const mailboxes = options.mailbox ? [options.mailbox] : (await deps.registry.list()).map((m) => m.id);
  const found = await mapLimited(mailboxes, 16, (mailboxId) =>
    deps.inbound.get(InboundStore.idOf(mailboxId, ref)),
  );
  const messages = found.filter((r): r is InboundRecord => r !== undefined);
  if (messages.length === 0) {
    throw new NotFoundError(
      `no inbound message ${ref} in ${options.mailbox ?? `any of the ${mailboxes.length} registered mailboxes`}` +
        (options.mailbox ? '' : ' (give --mailbox for a mailbox no longer registered)'),
    );
  }
  return { reference: ref, foundBy: 'message-id', messages };
}

function inboundKeyOf(reference: string, inboundBucket: string): string | undefined {
  if (reference.startsWith('inbound/')) return reference;
  const url = /^s3:\/\/([^/]+)\/(inbound\/.+)$/.exec(reference);
  if (!url) return undefined;
  if (url[1] !== inboundBucket) {
    throw new NotFoundError(`${reference} is not in this deployment's inbound bucket (${inboundBucket})`);
  }
  return url[2];
}
