import type { MailboxRecord, MailboxSettings } from '../registry/mailbox.js';
import type { InboundRecord } from '../inbound/inbound-record.js';
import type { ObjectRef, TransferRecord } from '../outbound/transfer.js';

/** A work queue of the pipeline and the dead-letter queue its failed messages end up in. */
export interface WorkQueueLocation {
  readonly url: string;
  readonly dlqUrl: string;
}

/** The queues an operator moves work between: both are SQS fair queues with the mailbox as message group. */
export type WorkQueueName = 'send' | 'download';

/**
 * Where one deployment's state lives: what an operator use case needs to know about a pipeline, deployed (from its
 * stack outputs) or local (from `.local/pipeline.json`).
 */
export interface PipelineLocation {
  readonly tableName: string;
  /** Secrets Manager name prefix of the mailbox secrets (`{prefix}{MAILBOX}`). */
  readonly secretPrefix: string;
  /** The deployment's KMS key, for new mailbox secrets; absent locally (the emulator encrypts nothing). */
  readonly dataKeyArn?: string;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  readonly queues: Readonly<Record<WorkQueueName, WorkQueueLocation>>;
}

/** The transfer records, as TransferStore reads them. */
export interface TransferLookup {
  get(transferId: string): Promise<TransferRecord | undefined>;
  findByMessageId(messageId: string): Promise<TransferRecord | undefined>;
  findByLocalId(sender: string, localId: string): Promise<TransferRecord[]>;
}

/** The inbound message records, as InboundStore reads and moves them. */
export interface InboundLookup {
  get(id: string): Promise<InboundRecord | undefined>;
  /** The store's own status change from outside the lease; undefined when the record was not in `from`. */
  transition(
    id: string,
    from: readonly string[],
    changes: Partial<InboundRecord>,
  ): Promise<InboundRecord | undefined>;
}

/** The mailbox registry, as MailboxRegistry keeps it. */
export interface RegistryPort {
  list(): Promise<MailboxRecord[]>;
  get(id: string): Promise<MailboxRecord | undefined>;
  add(settings: MailboxSettings, options?: { paused?: boolean }): Promise<boolean>;
  setPaused(id: string, paused: boolean, reason?: string): Promise<MailboxRecord>;
  remove(id: string): Promise<boolean>;
}

/** The versions of an outbound object S3 still knows, as the S3 event of each would have described it. */
export interface OutboundObjects {
  versionsOf(key: string): Promise<ObjectRef[]>;
}

/** Puts one task on a work queue, with the mailbox as its message group (the queues are fair by mailbox). */
export interface TaskQueues {
  enqueue(queue: WorkQueueName, body: string, mailboxId: string): Promise<void>;
}

/** What Secrets Manager says about a secret, never its value. */
export type SecretDescription =
  | { readonly exists: true; readonly lastChangedAt?: Date; readonly kmsKeyId?: string }
  | { readonly exists: false };

export interface SecretsPort {
  describe(secretId: string): Promise<SecretDescription>;
  /** The secret's current string value; throws if it cannot be read. */
  value(secretId: string): Promise<string | undefined>;
  /** Creates the secret with its first value; false if it already exists (nothing is changed then). */
  create(
    secretId: string,
    value: string,
    options: { kmsKeyId?: string; description: string },
  ): Promise<boolean>;
  /** Stores a new current version of an existing secret; returns its version id. */
  putValue(secretId: string, value: string): Promise<string | undefined>;
}
