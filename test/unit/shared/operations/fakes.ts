/** Typed in-memory stand-ins for the operator use cases' ports. */
import type { InboundRecord } from '../../../../shared/inbound/inbound-record.js';
import type { ObjectRef, TransferRecord } from '../../../../shared/outbound/transfer.js';
import type {
  InboundLookup,
  OutboundObjects,
  RegistryPort,
  SecretDescription,
  SecretsPort,
  TaskQueues,
  TransferLookup,
  WorkQueueName,
} from '../../../../shared/operations/ports.js';
import type { MailboxRecord, MailboxSettings } from '../../../../shared/registry/mailbox.js';

export const NOW = new Date('2026-11-21T11:00:00.000Z');

export function transfer(overrides: Partial<TransferRecord> & { transferId: string }): TransferRecord {
  return {
    bucket: 'mesh-outbound',
    key: 'outbound/X26ABC1/results.csv',
    size: 139,
    status: 'sending',
    chunksSent: 0,
    bytesSent: 0,
    attempts: 1,
    createdAt: '2026-11-21T10:00:00.000Z',
    updatedAt: '2026-11-21T10:00:00.000Z',
    ...overrides,
  };
}

export class FakeTransfers implements TransferLookup {
  constructor(readonly records: TransferRecord[] = []) {}
  async get(id: string) {
    return this.records.find((r) => r.transferId === id);
  }
  async findByMessageId(messageId: string) {
    return this.records.find((r) => r.messageId === messageId);
  }
  async findByLocalId(sender: string, localId: string) {
    return this.records.filter((r) => r.sender === sender && r.localId === localId);
  }
}

export function message(overrides: Partial<InboundRecord> & { messageId: string }): InboundRecord {
  return {
    mailboxId: 'X26ABC2',
    status: 'queued',
    attempts: 0,
    createdAt: '2026-11-21T10:00:00.000Z',
    updatedAt: '2026-11-21T10:00:00.000Z',
    ...overrides,
  };
}

export class FakeInbound implements InboundLookup {
  readonly byId = new Map<string, InboundRecord>();
  constructor(records: InboundRecord[] = []) {
    for (const r of records) this.byId.set(`${r.mailboxId}#${r.messageId}`, r);
  }
  async get(id: string) {
    return this.byId.get(id);
  }
  async transition(id: string, from: readonly string[], changes: Partial<InboundRecord>) {
    const record = this.byId.get(id);
    if (!record || !from.includes(record.status)) return undefined;
    const moved = { ...record, ...changes };
    this.byId.set(id, moved);
    return moved;
  }
}

export function mailbox(id: string, overrides: Partial<MailboxRecord> = {}): MailboxRecord {
  return {
    id,
    routes: [],
    pollIntervalSeconds: 300,
    secretId: `mesh/${id}`,
    paused: false,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    ...overrides,
  };
}

export class FakeRegistry implements RegistryPort {
  readonly byId = new Map<string, MailboxRecord>();
  constructor(records: MailboxRecord[] = []) {
    for (const r of records) this.byId.set(r.id, r);
  }
  async list() {
    return [...this.byId.values()];
  }
  async get(id: string) {
    return this.byId.get(id);
  }
  async add(settings: MailboxSettings, options: { paused?: boolean } = {}) {
    if (this.byId.has(settings.id)) return false;
    this.byId.set(settings.id, mailbox(settings.id, { ...settings, paused: options.paused ?? false }));
    return true;
  }
  async setPaused(id: string, paused: boolean, reason?: string) {
    const record = { ...this.byId.get(id)!, paused, pausedReason: paused ? reason : undefined };
    this.byId.set(id, record);
    return record;
  }
  async remove(id: string) {
    return this.byId.delete(id);
  }
}

export class FakeObjects implements OutboundObjects {
  constructor(readonly versions: Record<string, ObjectRef[]> = {}) {}
  async versionsOf(key: string) {
    return this.versions[key] ?? [];
  }
}

export class FakeQueues implements TaskQueues {
  readonly sent: { queue: WorkQueueName; body: string; groupId: string }[] = [];
  async enqueue(queue: WorkQueueName, body: string, mailboxId: string) {
    this.sent.push({ queue, body, groupId: mailboxId });
  }
}

export class FakeSecrets implements SecretsPort {
  readonly values = new Map<string, string[]>();
  readonly kmsKeys = new Map<string, string | undefined>();
  async describe(id: string): Promise<SecretDescription> {
    return this.values.has(id) ? { exists: true, lastChangedAt: NOW } : { exists: false };
  }
  async value(id: string) {
    return this.values.get(id)?.at(-1);
  }
  async create(id: string, value: string, options: { kmsKeyId?: string }) {
    if (this.values.has(id)) return false;
    this.values.set(id, [value]);
    this.kmsKeys.set(id, options.kmsKeyId);
    return true;
  }
  async putValue(id: string, value: string) {
    this.values.get(id)!.push(value);
    return `v${this.values.get(id)!.length}`;
  }
}
