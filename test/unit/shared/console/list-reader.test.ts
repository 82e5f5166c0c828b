import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readPage, type OrderedList } from '../../../../shared/console/list-reader.js';
import { InvalidRequestError } from '../../../../shared/console/errors.js';
import { encodeCursor, parseCursor, type Page } from '../../../../shared/console/paging.js';

/** Records 1..n, newer the higher; a record's position is its number, zero-padded so string order is number order. */
function list(n: number) {
  const records = Array.from({ length: n }, (_, i) => i + 1);
  const position = (r: number) => String(r).padStart(6, '0');
  const batches: { newestFirst: boolean; from?: string; limit: number; returned: number }[] = [];
  const ordered: OrderedList<number> = {
    async read({ newestFirst, from, limit }) {
      const inOrder = newestFirst ? [...records].reverse() : records;
      const start = from === undefined ? 0 : inOrder.findIndex((r) => position(r) === from) + 1;
      const items = inOrder.slice(start, start + limit).map((r) => ({ record: r, position: position(r) }));
      const more = start + limit < inOrder.length;
      batches.push({ newestFirst, from, limit, returned: items.length });
      return { items, last: more ? items.at(-1)!.position : undefined };
    },
  };
  return { ordered, batches, read: () => batches.reduce((sum, b) => sum + b.returned, 0) };
}

const all = () => true;

async function page(
  ordered: OrderedList<number>,
  cursor: string | undefined,
  limit: number,
  matches: (r: number) => boolean = all,
  maxRead?: number,
): Promise<Page<number>> {
  return readPage(ordered, { cursor: parseCursor(cursor), limit, matches }, maxRead);
}

describe('reading a list a page at a time', () => {
  test('pages newest first to the end and back again by the positions it gives', async () => {
    const { ordered } = list(7);
    const first = await page(ordered, undefined, 3);
    assert.deepEqual(first.items, [7, 6, 5]);
    assert.equal(first.previous, undefined);
    const second = await page(ordered, first.next, 3);
    assert.deepEqual(second.items, [4, 3, 2]);
    const last = await page(ordered, second.next, 3);
    assert.deepEqual(last.items, [1]);
    assert.equal(last.next, undefined);

    const backOne = await page(ordered, last.previous, 3);
    assert.deepEqual(backOne.items, [4, 3, 2]);
    const backToTop = await page(ordered, backOne.previous, 3);
    assert.deepEqual(backToTop.items, [7, 6, 5]);
    assert.equal(backToTop.previous, undefined, 'the newest page has nothing before it');
    assert.deepEqual((await page(ordered, backToTop.next, 3)).items, [4, 3, 2]);
  });

  test('reads no further than the page needs, whatever the length of the list', async () => {
    const { ordered, read } = list(100_000);
    const first = await page(ordered, undefined, 25);
    assert.deepEqual(first.items.slice(0, 2), [100_000, 99_999]);
    const afterFirst = read();
    await page(ordered, first.next, 25);
    assert.ok(afterFirst <= 26 && read() - afterFirst <= 26, `read ${read()} records for two pages`);
  });

  test('filters what it reads, reading on in growing batches until the page is full', async () => {
    const { ordered, batches } = list(1_000);
    const tens = await page(ordered, undefined, 5, (r) => r % 10 === 0);
    assert.deepEqual(tens.items, [1000, 990, 980, 970, 960]);
    const next = await page(ordered, tens.next, 5, (r) => r % 10 === 0);
    assert.deepEqual(next.items, [950, 940, 930, 920, 910]);

    const { ordered: sparse, batches: sparseBatches } = list(1_000);
    const rare = await page(sparse, undefined, 5, (r) => r === 3);
    assert.deepEqual(rare.items, [3]);
    assert.equal(rare.next, undefined);
    assert.ok(sparseBatches.length < 10, `${sparseBatches.length} batches`);
    assert.ok(
      sparseBatches.every((b, i) => i === 0 || b.limit >= sparseBatches[i - 1]!.limit),
      'batches grow while the filter leaves the page short',
    );
    assert.ok(batches.length >= 2);
  });

  test('stops a search at its read limit and offers the next page to look further', async () => {
    const { ordered, read } = list(10_000);
    const matches = (r: number) => r <= 2;
    const first = await page(ordered, undefined, 5, matches, 1_000);
    assert.deepEqual(first.items, []);
    assert.ok(read() <= 1_100, `read ${read()}`);
    assert.ok(first.next, 'the search can go on');
    let cursor: string | undefined = first.next;
    let found: number[] = [];
    for (let pages = 0; cursor && pages < 20; pages++) {
      const more = await page(ordered, cursor, 5, matches, 1_000);
      found = [...found, ...more.items];
      cursor = more.next;
    }
    assert.deepEqual(found, [2, 1]);
  });

  test('reads a page from an offset, as the cursors of the first console pages did', async () => {
    const { ordered } = list(60);
    const third = await page(ordered, '50', 25);
    assert.deepEqual(third.items, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert.equal(third.previous, '25');
    const second = await page(ordered, '25', 25);
    assert.equal(second.items[0], 35);
    assert.deepEqual((await page(ordered, second.next, 25)).items, third.items);
  });

  test('refuses a cursor it did not give out, and reads a number as an offset', () => {
    assert.deepEqual(parseCursor('40'), { kind: 'offset', skip: 40 });
    assert.deepEqual(parseCursor(encodeCursor('after', '2026-12-01T00:00:00.000Z#ab')), {
      kind: 'after',
      position: '2026-12-01T00:00:00.000Z#ab',
    });
    for (const bad of ['x.abc', 'a.', 'a.!!', '-1', `b.${Buffer.from('\n').toString('base64url')}`]) {
      assert.throws(() => parseCursor(bad), InvalidRequestError, bad);
    }
  });
});
