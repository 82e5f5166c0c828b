import type { InvocationBudget } from '../../../../shared/jobs/leased-job.js';
import type { MetricsSink, MetricUnit } from '../../../../shared/observability/ports.js';
export { RecordingLog } from '../recording-log.js';
import type { StatusChanges } from '../../../../shared/outbound/status-changes.js';
import type { TransferRecord } from '../../../../shared/outbound/transfer.js';
import type { TransferStore } from '../../../../shared/state/transfer-store.js';

export const NOW = Date.parse('2026-12-03T10:00:00.000Z');
export const MAX_ATTEMPTS = 3;
export const MIB = 1024 * 1024;
export const TRANSFER_ID = '0123456789abcdef0123456789abcdef';

/** A three-chunk transfer with its first chunk sent. */
export function transfer(overrides: Partial<TransferRecord> = {}): TransferRecord {
  return {
    transferId: TRANSFER_ID,
    bucket: 'outbound-bucket',
    key: 'outbound/X26ABC1/results/batch-1.csv',
    versionId: 'version-1',
    size: 3 * MIB,
    status: 'sending',
    sender: 'X26ABC1',
    recipient: 'X26ABC2',
    workflowId: 'TEST_WORKFLOW',
    localId: `nmp-${TRANSFER_ID}`,
    fileName: `nmp-${TRANSFER_ID}.csv`,
    messageId: 'MSG-1',
    chunkBytes: MIB,
    totalChunks: 3,
    chunksSent: 1,
    bytesSent: MIB,
    attempts: 1,
    createdAt: '2026-12-03T09:00:00.000Z',
    updatedAt: '2026-12-03T09:00:00.000Z',
    ...overrides,
  };
}

export function budgetOnAttempt(receiveCount: number, remainingMs = 600_000): InvocationBudget {
  return { invocationId: 'invocation-1', receiveCount, remainingMs: () => remainingMs };
}

export class RecordingMetrics implements MetricsSink {
  readonly points: { name: string; unit: MetricUnit; value: number; mailboxId?: string }[] = [];
  add(name: string, unit: MetricUnit, value: number, mailboxId?: string) {
    this.points.push({ name, unit, value, mailboxId });
  }
  names(): string[] {
    return this.points.map((p) => p.name);
  }
}

/**
 * A transfer store holding one record: writes apply to it, and every call is recorded in `calls` in the order made
 * (shared with the other fakes of a test, so their order can be asserted together).
 */
export class FakeTransfers implements Pick<TransferStore, 'get' | 'update' | 'releaseLease'> {
  readonly updates: Partial<TransferRecord>[] = [];
  /** Makes every update fail, as a store that is down would. */
  failUpdates?: Error;

  constructor(
    public record: TransferRecord,
    readonly calls: string[] = [],
  ) {}

  async get(): Promise<TransferRecord | undefined> {
    this.calls.push('get');
    return this.record;
  }

  async update(_id: string, _owner: string, changes: Partial<TransferRecord>): Promise<TransferRecord> {
    this.calls.push('update');
    this.updates.push(changes);
    if (this.failUpdates) throw this.failUpdates;
    this.record = { ...this.record, ...changes };
    return this.record;
  }

  async releaseLease(): Promise<void> {
    this.calls.push('releaseLease');
  }
}

/** Status changes written to the fake store (failing when its updates do), recorded as `change:<status>`. */
export class FakeStatusChanges implements Pick<StatusChanges, 'change'> {
  readonly changes: Partial<TransferRecord>[] = [];

  constructor(private readonly transfers: FakeTransfers) {}

  async change(
    record: TransferRecord,
    _budget: InvocationBudget,
    changes: Partial<TransferRecord>,
  ): Promise<TransferRecord> {
    this.transfers.calls.push(`change:${changes.status}`);
    this.changes.push(changes);
    if (this.transfers.failUpdates) throw this.transfers.failUpdates;
    this.transfers.record = { ...record, ...changes };
    return this.transfers.record;
  }
}
