import type { SendTask } from './send-job.js';

/** A send-queue message that cannot be understood; it goes to the DLQ after its retries, with this reason logged. */
export class UnreadableTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableTaskError';
  }
}

/** Body of a continuation message: carry on with a transfer that an earlier invocation checkpointed. */
export interface ContinuationMessage {
  readonly type: 'continue';
  readonly transferId: string;
  /** The sending mailbox, for its fair share and concurrency cap (absent in messages from before the fleet). */
  readonly mailboxId?: string;
}

interface S3NotificationRecord {
  readonly eventSource?: string;
  readonly eventName?: string;
  readonly s3?: {
    readonly bucket?: { readonly name?: string };
    readonly object?: {
      readonly key?: string;
      readonly size?: number;
      readonly eTag?: string;
      readonly versionId?: string;
    };
  };
}

/**
 * Reads one send-queue message: an S3 event notification (possibly several records), S3's test event, or a
 * continuation. Returns the tasks in it; an S3 test event holds none.
 */
export function parseSendMessage(body: string): SendTask[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UnreadableTaskError('send-queue message is not JSON');
  }
  const message = parsed as {
    type?: unknown;
    transferId?: unknown;
    mailboxId?: unknown;
    Records?: unknown;
    Event?: unknown;
  };
  if (message.type === 'continue') {
    if (typeof message.transferId !== 'string' || !/^[0-9a-f]{32}$/.test(message.transferId)) {
      throw new UnreadableTaskError('continuation message has no valid transferId');
    }
    const mailboxId = typeof message.mailboxId === 'string' ? message.mailboxId : undefined;
    return [{ kind: 'continue', transferId: message.transferId, mailboxId }];
  }
  if (message.Event === 's3:TestEvent') return [];
  if (!Array.isArray(message.Records))
    throw new UnreadableTaskError('send-queue message is neither an S3 event nor a continuation');
  return (message.Records as S3NotificationRecord[]).flatMap((record) => {
    if (record.eventSource !== 'aws:s3' || !record.eventName?.startsWith('ObjectCreated:')) return [];
    const bucket = record.s3?.bucket?.name;
    const object = record.s3?.object;
    if (!bucket || typeof object?.key !== 'string' || typeof object.size !== 'number') {
      throw new UnreadableTaskError('S3 event record lacks bucket, key or size');
    }
    return [
      {
        kind: 'object' as const,
        object: {
          bucket,
          // S3 event keys are form-encoded: '+' stands for a space.
          key: decodeURIComponent(object.key.replace(/\+/g, ' ')),
          size: object.size,
          eTag: object.eTag,
          versionId: object.versionId || undefined,
        },
      },
    ];
  });
}

export function continuationBody(transferId: string, mailboxId?: string): string {
  const message: ContinuationMessage = { type: 'continue', transferId, mailboxId };
  return JSON.stringify(message);
}
