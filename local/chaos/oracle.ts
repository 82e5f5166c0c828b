/**
 * The chaos run's judge. It reads only what the pipeline does not write for itself: the MESH server's store, the
 * recipient's bucket (read with a clean client) and what a consumer received from the event queues, and compares
 * them with each file's outcome as declared before the run.
 */
import type { InboundEventV1 } from '../../shared/events/inbound.js';
import type { OutboundStatusEventV1 } from '../../shared/events/outbound-status.js';
import type { Received } from './consumer.js';
import type { MeshStoredMessage, StoredObject } from './evidence.js';
import type { PlannedFile } from './plan.js';

export interface Evidence {
  readonly files: readonly PlannedFile[];
  /** The MESH server's store: every message, as it holds it. */
  readonly mesh: readonly MeshStoredMessage[];
  /** SHA-256 of each complete DATA message's content, from the MESH store's chunks. */
  readonly meshSha256: ReadonlyMap<string, string>;
  /** The recipient's bucket, every object hashed. */
  readonly objects: readonly StoredObject[];
  /** What the consumer received, in the order it received them. */
  readonly statuses: readonly Received<OutboundStatusEventV1>[];
  readonly inbound: readonly Received<InboundEventV1>[];
}

export interface Verdict {
  /** Files stored byte-identical under a MESH message of theirs and announced by an inbound event. */
  readonly delivered: number;
  /** Files whose transfer ended rejected, failed or undeliverable. */
  readonly terminalFailures: number;
  /** Terminal failures of files meant to be delivered, and invalid (or deleted) files not ending as declared. */
  readonly wrongTerminal: number;
  /** Files meant to be delivered that are not stored byte-identical and announced, or whose transfer ended terminal. */
  readonly lost: number;
  /** MESH messages that reached the recipient beyond one per deliverable file (any at all for an invalid one). */
  readonly duplicateMessages: number;
  /** Inbound events beyond one per MESH message id, as the consumer received them. */
  readonly duplicateEvents: number;
  /** Data messages MESH holds as acknowledged with no byte-identical object stored for them. */
  readonly ackedNotStored: number;
  /** Status events received again with an event id already received (distinct SQS messages). */
  readonly duplicateStatusEvents: number;
  /** Transfers whose status sequence is not sane (a status after a terminal one, or delivered and never accepted). */
  readonly badSequences: number;
  /** Inbound events for message ids the MESH server never held. */
  readonly strayEvents: number;
  /** One line per finding, with the file, transfer and message ids, for whoever fixes it. */
  readonly findings: readonly string[];
}

const FAILED = new Set(['rejected', 'failed', 'undeliverable']);
const FINAL = new Set(['delivered', 'undeliverable', 'rejected', 'failed']);

export function judge(evidence: Evidence): Verdict {
  const findings: string[] = [];
  const inboundByMessage = new Map<string, Received<InboundEventV1>[]>();
  for (const r of evidence.inbound) {
    const list = inboundByMessage.get(r.event.messageId) ?? [];
    list.push(r);
    inboundByMessage.set(r.event.messageId, list);
  }
  const meshIds = new Set(evidence.mesh.map((m) => m.messageId));

  let delivered = 0;
  let terminalFailures = 0;
  let wrongTerminal = 0;
  let lost = 0;
  let duplicateMessages = 0;
  let duplicateStatusEvents = 0;
  let badSequences = 0;

  for (const file of evidence.files) {
    const label = `file ${file.index} (${file.key}, ${file.expect.kind})`;
    const messages = evidence.mesh.filter(
      (m) => m.messageType === 'DATA' && m.sender === file.from && m.fileName === file.fileName,
    );
    const reached = messages.filter((m) => m.status !== 'uploading');
    const abandoned = messages.length - reached.length;
    const stored = (m: MeshStoredMessage) =>
      evidence.objects.some((o) => o.messageId === m.messageId && o.sha256 === file.sha256);
    const announced = (m: MeshStoredMessage) => (inboundByMessage.get(m.messageId)?.length ?? 0) > 0;
    const arrived = reached.filter((m) => stored(m) && announced(m));

    // Status events of this file's transfer(s), repeats of an event id set aside.
    const seen = new Set<string>();
    const sequence: OutboundStatusEventV1[] = [];
    for (const { event } of evidence.statuses) {
      if (event.key !== file.key) continue;
      if (seen.has(event.eventId)) {
        duplicateStatusEvents++;
        findings.push(`${label}: status event ${event.eventId} received again`);
        continue;
      }
      seen.add(event.eventId);
      sequence.push(event);
    }
    const transfers = [...new Set(sequence.map((e) => e.transferId))];
    const statuses = sequence.map((e) => e.status);
    const final = sequence.at(-1);
    const describe = () =>
      `transfer ${transfers.join('+') || '(no status event)'} [${statuses.join(' → ')}]${
        final?.error ? ` "${final.error.code ?? ''} ${final.error.text}"` : ''
      }; MESH ${messages.map((m) => `${m.messageId} ${m.status}`).join(', ') || 'none'}`;
    if (transfers.length > 1) findings.push(`${label}: more than one transfer: ${describe()}`);
    for (let i = 1; i < statuses.length; i++) {
      const before = statuses[i - 1]!;
      const now = statuses[i]!;
      if (FINAL.has(before) || (before === 'accepted' && now !== 'delivered' && now !== 'undeliverable')) {
        badSequences++;
        findings.push(`${label}: ${now} after ${before}: ${describe()}`);
        break;
      }
    }
    if (abandoned > 0) findings.push(`${label}: ${abandoned} MESH upload(s) never completed (not delivered)`);

    const failedFinally = final !== undefined && FAILED.has(final.status);
    if (failedFinally) terminalFailures++;
    const expected = file.expect;
    if (expected.kind === 'deliver' || expected.kind === 'deliver-ack-refused') {
      if (reached.length > 1) {
        duplicateMessages += reached.length - 1;
        findings.push(`${label}: ${reached.length} MESH messages: ${describe()}`);
      }
      if (arrived.length > 0) delivered++;
      if (failedFinally) {
        wrongTerminal++;
        findings.push(`${label}: ended ${final.status} though deliverable: ${describe()}`);
      }
      if (arrived.length === 0 || failedFinally) {
        lost++;
        if (arrived.length === 0)
          findings.push(`${label}: not stored byte-identical and announced: ${describe()}`);
      } else if (!statuses.includes('accepted')) {
        badSequences++;
        findings.push(`${label}: delivered but its transfer never reported accepted: ${describe()}`);
      }
    } else if (expected.kind === 'invalid') {
      if (reached.length > 0) {
        duplicateMessages += reached.length;
        findings.push(`${label}: invalid, yet sent to MESH: ${describe()}`);
      }
      if (arrived.length > 0) delivered++;
      if (final?.status !== expected.status || !expected.reason.test(final.error?.text ?? '')) {
        wrongTerminal++;
        findings.push(`${label}: expected ${expected.status} (${String(expected.reason)}): ${describe()}`);
      }
    } else {
      // Deleted right after upload: delivered (sent before the delete) or failed with the reason; never silent.
      if (reached.length > 1) {
        duplicateMessages += reached.length - 1;
        findings.push(`${label}: ${reached.length} MESH messages: ${describe()}`);
      }
      if (arrived.length > 0) delivered++;
      const failedAsDeclared =
        final?.status === expected.status && expected.reason.test(final.error?.text ?? '');
      if (arrived.length > 0 && failedFinally) {
        wrongTerminal++;
        findings.push(`${label}: delivered, yet its transfer ended ${final.status}: ${describe()}`);
      } else if (arrived.length === 0 && failedFinally && !failedAsDeclared) {
        wrongTerminal++;
        findings.push(`${label}: expected ${expected.status} (${String(expected.reason)}): ${describe()}`);
      } else if (arrived.length === 0 && !failedFinally) {
        lost++;
        findings.push(`${label}: neither delivered nor failed (silent): ${describe()}`);
      }
    }
  }

  let duplicateEvents = 0;
  let strayEvents = 0;
  for (const [messageId, events] of inboundByMessage) {
    if (events.length > 1) {
      duplicateEvents += events.length - 1;
      const gap = ((events.at(-1)!.at - events[0]!.at) / 1000).toFixed(1);
      findings.push(
        `message ${messageId}: ${events.length} inbound events (${events.map((e) => e.event.eventId).join(', ')}), the last ${gap} s after the first`,
      );
    }
    if (!meshIds.has(messageId)) {
      strayEvents += events.length;
      findings.push(`message ${messageId}: inbound event for a message MESH never held`);
    }
  }

  let ackedNotStored = 0;
  for (const m of evidence.mesh) {
    if (m.messageType !== 'DATA' || m.status !== 'acknowledged') continue;
    const sha = evidence.meshSha256.get(m.messageId);
    if (!evidence.objects.some((o) => o.messageId === m.messageId && o.sha256 === sha)) {
      ackedNotStored++;
      findings.push(`message ${m.messageId} (${m.fileName} to ${m.recipient}): acknowledged, not stored`);
    }
  }

  return {
    delivered,
    terminalFailures,
    wrongTerminal,
    lost,
    duplicateMessages,
    duplicateEvents,
    ackedNotStored,
    duplicateStatusEvents,
    badSequences,
    strayEvents,
    findings,
  };
}
