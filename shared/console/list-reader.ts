import { encodeCursor, type Cursor, type Page } from './paging.js';

/** A record of an ordered list, with its position in it (its sort value: unique, and newer sorts higher). */
export interface Positioned<R> {
  readonly record: R;
  readonly position: string;
}

/**
 * An ordered list read a batch at a time (a DynamoDB Query of one index partition): from the newest or the oldest
 * end, starting after `from` (exclusive) when given. `last` is where the next batch starts; absent at the list's end.
 */
export interface OrderedList<R> {
  read(batch: {
    readonly newestFirst: boolean;
    readonly from?: string;
    readonly limit: number;
  }): Promise<{ readonly items: readonly Positioned<R>[]; readonly last?: string }>;
}

export interface PageRequest<R> {
  readonly cursor: Cursor;
  readonly limit: number;
  /** The filters and search, applied here so they mean what they always have (a case-insensitive search). */
  readonly matches: (record: R) => boolean;
}

/**
 * The most records one page request reads while looking for matches. A search that matches nothing in a large
 * mailbox stops here, within the API's time limit, and offers the next page to look further.
 */
export const MAX_READ_PER_PAGE = 5_000;
const FIRST_BATCH_MIN = 25;
const BATCH_MAX = 1_000;

/**
 * One page of an ordered list, newest first, reading only as far as the page needs: the records before its start
 * are skipped by the list's own key (keyset paging), never read. Filters are applied to what is read, and the batch
 * grows while they leave the page short.
 */
export async function readPage<R>(
  list: OrderedList<R>,
  request: PageRequest<R>,
  maxRead = MAX_READ_PER_PAGE,
): Promise<Page<R>> {
  const { cursor, limit } = request;
  const newestFirst = cursor.kind !== 'before';
  let skip = cursor.kind === 'offset' ? cursor.skip : 0;
  // One more than the page, to tell whether anything follows it.
  const want = limit + 1;
  const found: Positioned<R>[] = [];
  let from = cursor.kind === 'offset' ? undefined : cursor.position;
  let batch = Math.min(BATCH_MAX, Math.max(FIRST_BATCH_MIN, want + skip));
  let read = 0;
  let lastRead: string | undefined;
  let ended = false;
  for (;;) {
    const { items, last } = await list.read({ newestFirst, from, limit: batch });
    for (const item of items) {
      read++;
      lastRead = item.position;
      if (!request.matches(item.record)) continue;
      if (skip > 0) skip--;
      else found.push(item);
      if (found.length === want) break;
    }
    if (found.length === want) break;
    if (!last) {
      ended = true;
      break;
    }
    from = last;
    if (read >= maxRead) break;
    batch = Math.min(BATCH_MAX, batch * 2, maxRead - read);
  }

  // Short of a full page without reaching the end: the read limit stopped the search at `lastRead`.
  const stoppedShort = found.length < want && !ended;
  const shown = found.slice(0, limit);
  // Where the reading would go on: after the last record shown when the page is full, else where it stopped.
  const goOnFrom =
    found.length > limit ? shown.at(-1)!.position : stoppedShort ? (lastRead ?? from) : undefined;
  if (newestFirst) {
    return {
      items: shown.map((f) => f.record),
      next: goOnFrom === undefined ? undefined : encodeCursor('after', goOnFrom),
      previous: previousOf(cursor, shown[0]?.position, limit),
    };
  }
  // Read oldest first from the position, towards the newest: shown newest first, as every page is.
  const oldestShown = shown[0]?.position;
  return {
    items: shown.map((f) => f.record).reverse(),
    previous: goOnFrom === undefined ? undefined : encodeCursor('before', goOnFrom),
    // The page came back from an older one, so there is one; with nothing shown, the list starts again at the top.
    next: oldestShown === undefined ? '0' : encodeCursor('after', oldestShown),
  };
}

function previousOf(cursor: Cursor, newest: string | undefined, limit: number): string | undefined {
  if (cursor.kind === 'offset') return cursor.skip > 0 ? String(Math.max(0, cursor.skip - limit)) : undefined;
  return newest === undefined ? '0' : encodeCursor('before', newest);
}
