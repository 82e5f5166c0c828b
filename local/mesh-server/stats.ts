/** Counters for assertions such as "no duplicate messages": what happened, not just what is stored now. */
import { MESSAGE_STATUSES, type MessageRecord, type MessageStatus } from './message.js';

export interface ServerCounters {
  requests: number;
  authFailures: number;
  /** First-chunk POSTs answered 202. */
  sendsAccepted: number;
  chunksUploaded: number;
  /** Messages that reached `accepted` after upload (reports not included). */
  messagesFinalised: number;
  chunkDownloads: number;
  /** Acknowledgements that changed a message's status. */
  acknowledgements: number;
  /** Acknowledgements of a message already acknowledged (answered 200, changed nothing). */
  repeatedAcknowledgements: number;
  reportsCreated: number;
  messagesExpired: number;
  /** Messages stored through the admin API's seeding, not sent over HTTP (not in sendsAccepted). */
  messagesSeeded: number;
  faultsFired: number;
}

export type StatusCounts = Record<MessageStatus, number>;

export interface MailboxStats {
  /** Messages addressed to the mailbox, by status (reports included). */
  inbox: StatusCounts;
  /** Data messages the mailbox sent, by status. */
  outbox: StatusCounts;
}

export interface MeshServerStats {
  counters: ServerCounters;
  faultsFiredByEndpoint: Record<string, number>;
  messages: { total: number; data: number; reports: number; byStatus: StatusCounts };
  mailboxes: Record<string, MailboxStats>;
}

const zeroCounters = (): ServerCounters => ({
  requests: 0,
  authFailures: 0,
  sendsAccepted: 0,
  chunksUploaded: 0,
  messagesFinalised: 0,
  chunkDownloads: 0,
  acknowledgements: 0,
  repeatedAcknowledgements: 0,
  reportsCreated: 0,
  messagesExpired: 0,
  messagesSeeded: 0,
  faultsFired: 0,
});

const zeroStatuses = (): StatusCounts =>
  Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as StatusCounts;

export class StatsRecorder {
  counters: ServerCounters = zeroCounters();
  faultsFiredByEndpoint: Record<string, number> = {};

  count(counter: keyof ServerCounters, by = 1): void {
    this.counters[counter] += by;
  }

  faultFired(endpoint: string): void {
    this.counters.faultsFired += 1;
    this.faultsFiredByEndpoint[endpoint] = (this.faultsFiredByEndpoint[endpoint] ?? 0) + 1;
  }

  reset(): void {
    this.counters = zeroCounters();
    this.faultsFiredByEndpoint = {};
  }

  snapshot(records: Iterable<MessageRecord>, mailboxIds: Iterable<string>): MeshServerStats {
    const mailboxes: Record<string, MailboxStats> = {};
    for (const id of mailboxIds) mailboxes[id] = { inbox: zeroStatuses(), outbox: zeroStatuses() };
    const messages = { total: 0, data: 0, reports: 0, byStatus: zeroStatuses() };
    for (const record of records) {
      messages.total += 1;
      messages[record.messageType === 'DATA' ? 'data' : 'reports'] += 1;
      messages.byStatus[record.status] += 1;
      const inbox = mailboxes[record.recipient]?.inbox;
      if (inbox) inbox[record.status] += 1;
      const outbox = record.sender ? mailboxes[record.sender]?.outbox : undefined;
      if (outbox) outbox[record.status] += 1;
    }
    return {
      counters: { ...this.counters },
      faultsFiredByEndpoint: { ...this.faultsFiredByEndpoint },
      messages,
      mailboxes,
    };
  }
}
