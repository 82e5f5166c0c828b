import type { MailboxRecord } from './mailbox.js';

/** Reads the whole registry (MailboxRegistry.list). */
export type ListMailboxes = () => Promise<readonly MailboxRecord[]>;

/**
 * The functions' cached view of the registry: read whole at most once per `maxAgeMs`, so a new, paused or re-routed
 * mailbox takes effect within that time without a deployment, and a thousand mailboxes cost one Query per
 * invocation environment per interval. Concurrent callers share one read.
 */
export class MailboxDirectory {
  private cached?: { at: number; byId: ReadonlyMap<string, MailboxRecord> };
  private reading?: Promise<ReadonlyMap<string, MailboxRecord>>;
  /** Bumped by invalidate(): a read that began before it neither answers later callers nor fills the cache. */
  private generation = 0;

  constructor(
    private readonly list: ListMailboxes,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
    /** Reads one record: a mailbox missing from the cached view may have been added since it was read. */
    private readonly getOne?: (id: string) => Promise<MailboxRecord | undefined>,
  ) {}

  async all(): Promise<readonly MailboxRecord[]> {
    return [...(await this.byId()).values()];
  }

  async get(id: string): Promise<MailboxRecord | undefined> {
    return (await this.byId()).get(id) ?? (await this.getOne?.(id));
  }

  /** Forgets the cached view (after the caller changed the registry itself). */
  invalidate(): void {
    this.cached = undefined;
    this.reading = undefined;
    this.generation++;
  }

  private async byId(): Promise<ReadonlyMap<string, MailboxRecord>> {
    if (this.cached && this.now() - this.cached.at < this.maxAgeMs) return this.cached.byId;
    if (this.reading) return this.reading;
    const generation = this.generation;
    const reading = this.list()
      .then((records) => {
        const byId = new Map(records.map((r) => [r.id, r]));
        if (generation === this.generation) this.cached = { at: this.now(), byId };
        return byId;
      })
      .finally(() => {
        if (this.reading === reading) this.reading = undefined;
      });
    this.reading = reading;
    return reading;
  }
}
