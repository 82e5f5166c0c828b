import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailboxRecord } from '../../../../shared/registry/mailbox.js';
import { MailboxDirectory } from '../../../../shared/registry/mailbox-directory.js';
import { mailbox } from './fakes.js';

const MAX_AGE_MS = 60_000;

/** A registry whose reads are counted, each answering with what `records` holds when it is called. */
class FakeRegistry {
  records: MailboxRecord[];
  lists = 0;
  gets: string[] = [];
  /** When set, each list waits for the test to let it finish. */
  gate?: Promise<void>;

  constructor(records: MailboxRecord[]) {
    this.records = records;
  }

  readonly list = async (): Promise<readonly MailboxRecord[]> => {
    this.lists++;
    const snapshot = [...this.records];
    if (this.gate) await this.gate;
    return snapshot;
  };

  readonly getOne = async (id: string): Promise<MailboxRecord | undefined> => {
    this.gets.push(id);
    return this.records.find((r) => r.id === id);
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function setup(records = [mailbox('X26ABC1'), mailbox('X26ABC2')]) {
  const registry = new FakeRegistry(records);
  const clock = { ms: 1_000_000 };
  const directory = new MailboxDirectory(registry.list, MAX_AGE_MS, () => clock.ms, registry.getOne);
  return { registry, clock, directory };
}

describe("the functions' cached view of the registry", () => {
  test('reads the registry once and answers from the cache until maxAge has passed', async () => {
    const { registry, clock, directory } = setup();

    assert.deepEqual((await directory.all()).map((m) => m.id).sort(), ['X26ABC1', 'X26ABC2']);
    registry.records = [...registry.records, mailbox('X26ABC3')];
    clock.ms += MAX_AGE_MS - 1;
    const stillCached = await directory.all();
    clock.ms += 1;
    const reread = await directory.all();

    assert.equal(stillCached.length, 2);
    assert.equal(reread.length, 3);
    assert.equal(registry.lists, 2);
  });

  test('shows a change to a cached mailbox (paused) only after maxAge', async () => {
    const { registry, clock, directory } = setup();
    await directory.get('X26ABC1');

    registry.records = [mailbox('X26ABC1', { paused: true }), mailbox('X26ABC2')];
    const before = await directory.get('X26ABC1');
    clock.ms += MAX_AGE_MS;
    const after = await directory.get('X26ABC1');

    assert.equal(before?.paused, false);
    assert.equal(after?.paused, true);
  });

  test('lets concurrent callers share one read', async () => {
    const { registry, directory } = setup();
    const slow = deferred();
    registry.gate = slow.promise;

    const callers = Promise.all([
      directory.all(),
      directory.get('X26ABC1'),
      directory.get('X26ABC2'),
      directory.all(),
    ]);
    slow.resolve();
    const [all, first, second, again] = await callers;

    assert.equal(registry.lists, 1);
    assert.equal(all.length, 2);
    assert.equal(first?.id, 'X26ABC1');
    assert.equal(second?.id, 'X26ABC2');
    assert.deepEqual(again, all);
    assert.deepEqual(registry.gets, []);
  });

  test('fetches a mailbox missing from the cache with getOne, without re-reading the whole registry', async () => {
    const { registry, directory } = setup();
    await directory.all();
    registry.records = [...registry.records, mailbox('X26NEW1', { pollIntervalSeconds: 600 })];

    const added = await directory.get('X26NEW1');
    const unknown = await directory.get('X26NONE');

    assert.equal(added?.pollIntervalSeconds, 600);
    assert.equal(unknown, undefined);
    assert.deepEqual(registry.gets, ['X26NEW1', 'X26NONE']);
    assert.equal(registry.lists, 1);
  });

  test('answers undefined for a mailbox missing from the cache when it has no getOne', async () => {
    const registry = new FakeRegistry([mailbox('X26ABC1')]);
    const directory = new MailboxDirectory(registry.list, MAX_AGE_MS, () => 0);

    assert.equal(await directory.get('X26NONE'), undefined);
    assert.equal((await directory.get('X26ABC1'))?.id, 'X26ABC1');
  });

  test('re-reads the registry on the next call after invalidate', async () => {
    const { registry, directory } = setup();
    await directory.all();
    registry.records = [mailbox('X26ABC1', { paused: true })];

    directory.invalidate();
    const all = await directory.all();

    assert.equal(registry.lists, 2);
    assert.deepEqual(
      all.map((m) => [m.id, m.paused]),
      [['X26ABC1', true]],
    );
  });

  test('after invalidate, does not answer from a read that started before it', async () => {
    // A caller changes the registry while another's read is in flight, then invalidates: it must see its change.
    const { registry, directory } = setup([mailbox('X26ABC1')]);
    const slow = deferred();
    registry.gate = slow.promise;
    const earlier = directory.all();

    registry.records = [mailbox('X26ABC1', { paused: true })];
    directory.invalidate();
    registry.gate = undefined;
    const later = directory.get('X26ABC1');
    slow.resolve();
    await earlier;

    assert.equal((await later)?.paused, true);
  });

  test('tries the registry again on the next call after a failed read', async () => {
    const registry = new FakeRegistry([mailbox('X26ABC1'), mailbox('X26ABC2')]);
    let failures = 1;
    const directory = new MailboxDirectory(
      async () => {
        if (failures-- > 0) throw new Error('throttled');
        return registry.list();
      },
      MAX_AGE_MS,
      () => 0,
    );

    await assert.rejects(directory.all(), /throttled/);
    assert.equal((await directory.all()).length, 2);
  });
});
