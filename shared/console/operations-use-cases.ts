import { z } from 'zod';
import {
  NotFoundError as OperationsNotFound,
  redriveMessage,
  redriveTransfer,
  RedriveRefusedError,
  setMailboxPaused,
} from '../operations/index.js';
import { CERTIFICATE_WARNING_DAYS } from '../health/certificate.js';
import { HEALTH_FAILURE_HINTS, type HealthFailureKind } from '../health/health-check.js';
import { METRICS } from '../observability/metric-names.js';
import { mailboxIdSchema, type MailboxRecord } from '../registry/mailbox.js';
import type { ConsoleDeps } from './deps.js';
import { ConflictError, NotFoundError } from './errors.js';
import { requireOperator, type ConsoleUser } from './identity.js';
import { parseInput } from './input.js';
import type { AuditEntry } from './ports.js';
import {
  messageView,
  restrictedMessageView,
  restrictedTransferView,
  transferView,
  type MessageView,
  type RestrictedMessageView,
  type RestrictedTransferView,
  type TransferView,
} from './views.js';

export interface MailboxHealth {
  readonly id: string;
  readonly paused: boolean;
  readonly pausedReason?: string;
  /** ISO times, when the pipeline recorded them. */
  readonly lastPolledAt?: string;
  readonly nextPollAt?: string;
  readonly lastInboundAt?: string;
  /** Messages listed by MESH and not yet acknowledged (queued, downloading, stored, poisoned). */
  readonly inboxBacklog: number;
  /** When the daily health check last ran, and whether its authenticated handshake with MESH succeeded. */
  readonly lastHealthCheckAt?: string;
  readonly handshakeOk?: boolean;
  /** Why the last check failed and what to check: the health check's own hint for its kind of failure. */
  readonly healthProblem?: string;
  /** The last time a handshake succeeded. */
  readonly lastHandshakeAt?: string;
  /** The client certificate's expiry as the last check read it, and the whole days left (negative once expired). */
  readonly certificateExpiresAt?: string;
  readonly certificateDaysLeft?: number;
  /** True within the days before expiry when the certificate alarm fires: time to ask for a new certificate. */
  readonly certificateExpiresSoon?: boolean;
  /** Where the figures come from, and the alarms that watch them. */
  readonly handshakeAndCertificate: string;
}

export interface OperationsOverview {
  /**
   * Work of every mailbox. The operator role grants no mailbox's files (identity.ts): of a mailbox outside the
   * operator's own groups only ids, status and reasons are shown, never file names, subjects or keys.
   */
  readonly stalledTransfers: readonly (TransferView | RestrictedTransferView)[];
  readonly poisonedMessages: readonly (MessageView | RestrictedMessageView)[];
  readonly mailboxes: readonly MailboxHealth[];
}

const pauseSchema = z.object({ reason: z.string().trim().max(300).optional() });
const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().max(200).optional(),
});

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const DAY_MS = 24 * 60 * 60 * 1000;

const HEALTH_SOURCE =
  `Checked daily by the health function, which also alarms when a check fails (${METRICS.healthCheckFailed}) and ` +
  `when a certificate has fewer than ${CERTIFICATE_WARNING_DAYS} days left (${METRICS.certificateDaysToExpiry}).`;

/** The health check's last outcome on a registry record, with the certificate's days left counted from `now`. */
function healthOf(m: MailboxRecord, now: Date) {
  const notAfter = m.certificateNotAfter;
  // Rounded down, as the health check counts them (shared/health/certificate.ts): 0 on the last day.
  const daysLeft = notAfter === undefined ? undefined : Math.floor((notAfter - now.getTime()) / DAY_MS);
  return {
    lastHealthCheckAt: iso(m.lastHealthCheckAt),
    handshakeOk: m.lastHealthCheckOk,
    healthProblem:
      m.lastHealthCheckOk === false && m.lastHealthFailure
        ? (HEALTH_FAILURE_HINTS[m.lastHealthFailure as HealthFailureKind] ?? m.lastHealthFailure)
        : undefined,
    lastHandshakeAt: iso(m.lastHandshakeAt),
    certificateExpiresAt: iso(notAfter),
    certificateDaysLeft: daysLeft,
    certificateExpiresSoon: daysLeft === undefined ? undefined : daysLeft < CERTIFICATE_WARNING_DAYS,
    handshakeAndCertificate: HEALTH_SOURCE,
  };
}

/** What only operators do: see the work that needs a hand across every mailbox, redrive it, pause and resume. */
export class OperationsUseCases {
  constructor(private readonly deps: ConsoleDeps) {}

  async overview(user: ConsoleUser): Promise<OperationsOverview> {
    requireOperator(user);
    const [attention, registry] = await Promise.all([
      this.deps.records.needingAttention(),
      this.deps.registry.list(),
    ]);
    const { backlog } = attention;
    const held = new Set(user.mailboxes);
    return {
      stalledTransfers: attention.transfers.map((t) =>
        t.sender && held.has(t.sender) ? transferView(t) : restrictedTransferView(transferView(t)),
      ),
      poisonedMessages: attention.messages.map((m) =>
        held.has(m.mailboxId) ? messageView(m) : restrictedMessageView(messageView(m)),
      ),
      mailboxes: registry
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((m) => ({
          id: m.id,
          paused: m.paused,
          pausedReason: m.pausedReason,
          lastPolledAt: iso(m.lastPolledAt),
          nextPollAt: iso(m.nextPollAt),
          lastInboundAt: iso(m.lastInboundAt),
          inboxBacklog: backlog[m.id] ?? 0,
          ...healthOf(m, this.deps.now()),
        })),
    };
  }

  async redriveTransfer(user: ConsoleUser, rawTransferId: string | undefined): Promise<TransferView> {
    requireOperator(user);
    const transferId = parseInput(
      z.string().regex(/^[0-9a-f]{32}$/, 'a transfer id is 32 hexadecimal characters'),
      rawTransferId ?? '',
    );
    const redriven = await translate(() => redriveTransfer(this.deps, transferId));
    await this.audit(
      user,
      'redrive-transfer',
      redriven.mailboxId,
      transferId,
      `was ${redriven.status}, ${redriven.chunksSent}/${redriven.totalChunks ?? '?'} chunks`,
    );
    const record = await this.deps.transfers.get(transferId);
    if (!record) throw new NotFoundError(`Transfer ${transferId} is gone.`);
    return transferView(record);
  }

  async redriveMessage(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    rawMessageId: string | undefined,
  ): Promise<MessageView> {
    requireOperator(user);
    const mailboxId = parseInput(mailboxIdSchema, rawMailbox ?? '');
    const messageId = parseInput(
      z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'not a MESH message id'),
      rawMessageId ?? '',
    );
    const moved = await translate(() => redriveMessage(this.deps, mailboxId, messageId));
    await this.audit(user, 'redrive-message', mailboxId, messageId);
    return messageView(moved);
  }

  async setPaused(user: ConsoleUser, rawMailbox: string | undefined, paused: boolean, body: unknown) {
    requireOperator(user);
    const mailboxId = parseInput(mailboxIdSchema, rawMailbox ?? '');
    const { reason } = parseInput(pauseSchema, body ?? {});
    const record = await translate(() =>
      setMailboxPaused(this.deps, mailboxId, paused, paused ? reason || undefined : undefined),
    );
    await this.audit(user, paused ? 'pause-mailbox' : 'resume-mailbox', mailboxId, mailboxId, reason);
    return { id: record.id, paused: record.paused, pausedReason: record.pausedReason };
  }

  async auditTrail(user: ConsoleUser, query: unknown) {
    requireOperator(user);
    return this.deps.audit.recent(parseInput(auditQuerySchema, query));
  }

  private async audit(
    user: ConsoleUser,
    action: AuditEntry['action'],
    mailboxId: string,
    target: string,
    detail?: string,
  ) {
    await this.deps.audit.record({
      subject: user.subject,
      user: user.name,
      action,
      mailboxId,
      target,
      detail,
    });
  }
}

/** The operator use cases' refusals, as the console's. */
async function translate<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OperationsNotFound) throw new NotFoundError(error.message);
    if (error instanceof RedriveRefusedError) throw new ConflictError(error.message);
    throw error;
  }
}
