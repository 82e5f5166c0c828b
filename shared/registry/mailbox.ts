import { z } from 'zod';
import { MAILBOX_POLLING } from '../wiring/pipeline.js';

/** The one rule for a MESH mailbox id in this pipeline: uppercase letters and digits, as NHS issues them. */
export const MAILBOX_ID_PATTERN = /^[A-Z0-9]{3,20}$/;

export const mailboxIdSchema = z
  .string()
  .regex(MAILBOX_ID_PATTERN, 'a MESH mailbox id is 3 to 20 uppercase letters and digits');

/** Partition key of the registry's records in the pipeline's table (`sk` is the mailbox id). */
export const REGISTRY_PARTITION = 'MAILBOX';
/** Partition key prefix of a mailbox's concurrency slots (`MAILBOX_SLOT#{id}`, `sk` the slot number). */
export const SLOT_PARTITION_PREFIX = 'MAILBOX_SLOT#';
/** Partition key of the index of mailboxes with tasks set aside (`sk` is the mailbox id). */
export const PARKED_INDEX_PARTITION = 'MAILBOX_PARKED';
/** Partition key prefix of a mailbox's tasks set aside while it is at its cap (`MAILBOX_PARKED#{id}`). */
export const PARKED_PARTITION_PREFIX = `${PARKED_INDEX_PARTITION}#`;

/** The secret of a mailbox: one per mailbox, under the deployment's prefix. */
export function mailboxSecretId(secretPrefix: string, mailboxId: string): string {
  return `${secretPrefix}${mailboxId}`;
}

export const outboundRouteSchema = z.object({
  prefix: z.string().min(1),
  to: z.string().min(1).optional(),
  workflowId: z.string().min(1).optional(),
  subject: z.string().min(1).optional(),
  contentType: z.string().min(1).optional(),
});

/** What an operator sets on a mailbox (the rest of a record is kept by the pipeline). */
export const mailboxSettingsSchema = z.object({
  id: mailboxIdSchema,
  /** Outbound defaults by key prefix, each under `outbound/{id}/`. */
  routes: z.array(outboundRouteSchema).default([]),
  /** Seconds between polls of the inbox: MESH asks for at most one every 5 minutes and at least one a day. */
  pollIntervalSeconds: z
    .number()
    .int()
    .min(MAILBOX_POLLING.minIntervalSeconds)
    .max(MAILBOX_POLLING.maxIntervalSeconds)
    .default(MAILBOX_POLLING.defaultIntervalSeconds),
  /** Hours without an inbound message after which the mailbox's InboundOverdue alarm fires; none: never. */
  expectedInboundHours: z
    .number()
    .positive()
    .max(24 * 366)
    .optional(),
});

/** Route prefixes outside the mailbox's own folder, read from raw input so they are reported with any other problem. */
function routePrefixProblems(value: unknown): string[] {
  const raw = value as { id?: unknown; routes?: unknown } | null;
  if (!raw || typeof raw.id !== 'string' || !Array.isArray(raw.routes)) return [];
  return raw.routes.flatMap((route: unknown, i) => {
    const prefix = (route as { prefix?: unknown } | null)?.prefix;
    return typeof prefix === 'string' && !prefix.startsWith(`outbound/${raw.id as string}/`)
      ? [
          `routes.${i}.prefix: a route of mailbox ${raw.id as string} must have a prefix under outbound/${raw.id as string}/`,
        ]
      : [];
  });
}

export type MailboxSettings = z.output<typeof mailboxSettingsSchema>;
export type MailboxSettingsInput = z.input<typeof mailboxSettingsSchema>;

/** A mailbox in the registry. */
export interface MailboxRecord extends MailboxSettings {
  /** Secrets Manager id of its credentials (see MeshCredentials). */
  readonly secretId: string;
  readonly paused: boolean;
  readonly pausedReason?: string;
  /** ISO times. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Epoch ms: the earliest time the next poll may start (set when a poll is claimed). */
  readonly nextPollAt?: number;
  readonly lastPolledAt?: number;
  /** Epoch ms of the last inbound message stored. */
  readonly lastInboundAt?: number;
  /** What the daily health check last found (MailboxRegistry.recordHealth); absent until it has run. */
  readonly lastHealthCheckAt?: number;
  readonly lastHealthCheckOk?: boolean;
  /** Why the last check failed (the health check's failure kind), while it is failing. */
  readonly lastHealthFailure?: string;
  /** Epoch ms of the last check whose authenticated handshake with MESH succeeded. */
  readonly lastHandshakeAt?: number;
  /** Epoch ms: when the client certificate expires, as the last check read it from the secret. */
  readonly certificateNotAfter?: number;
}

/** One health check's outcome, as recorded on the mailbox's registry record. */
export interface MailboxHealthRecord {
  /** Epoch ms of the check. */
  readonly checkedAt: number;
  /** The authenticated handshake succeeded. */
  readonly ok: boolean;
  readonly failure?: string;
  /** Epoch ms; absent when the certificate could not be read. */
  readonly certificateNotAfter?: number;
}

/** Checks settings, giving every problem in one message. */
export function parseMailboxSettings(value: unknown): MailboxSettings {
  const result = mailboxSettingsSchema.safeParse(value);
  const problems = [
    ...(result.success
      ? []
      : result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))),
    ...routePrefixProblems(value),
  ];
  if (problems.length > 0) throw new MailboxSettingsError(problems);
  return result.data!;
}

export class MailboxSettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid mailbox settings: ${problems.join('; ')}`);
    this.name = 'MailboxSettingsError';
  }
}
