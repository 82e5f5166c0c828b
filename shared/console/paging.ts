import { z } from 'zod';
import { InvalidRequestError } from './errors.js';

export const pageSchema = z.object({
  /** A `next` or `previous` of an earlier page; a whole number is read as an offset, as the first pages' were. */
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export interface Page<T> {
  readonly items: readonly T[];
  /**
   * How many match in all, for a list read whole. A list read a page at a time (the outbox and inbox) leaves it out:
   * counting would read every record the page was meant to spare.
   */
  readonly total?: number;
  /** Pass as `cursor` for the next (older) page; absent on the last. */
  readonly next?: string;
  /** Pass as `cursor` for the previous (newer) page; absent on the first. */
  readonly previous?: string;
}

/**
 * Where a page starts in a list kept newest first, by a position in it (the list's sort value of a record):
 * - `after`: the records older than the position (the next page);
 * - `before`: the records newer than it (the previous page);
 * - `offset`: from the start, skipping that many matches (the cursor the first console pages gave out).
 */
export type Cursor =
  | { readonly kind: 'offset'; readonly skip: number }
  | { readonly kind: 'after' | 'before'; readonly position: string };

/** The words for a cursor that is not one this console gave out, or not one of the list asked for. */
export const BAD_CURSOR = 'The page link is not valid. Go back to the first page of the list.';

/** The cursor a page gives for a position: opaque to the browser, which only passes it back. */
export function encodeCursor(kind: 'after' | 'before', position: string): string {
  return `${kind === 'after' ? 'a' : 'b'}.${Buffer.from(position, 'utf8').toString('base64url')}`;
}

/** Reads a cursor from a request; one that was not made by encodeCursor (or an offset) is refused. */
export function parseCursor(raw: string | undefined): Cursor {
  if (raw === undefined || raw === '') return { kind: 'offset', skip: 0 };
  if (/^\d{1,7}$/.test(raw)) return { kind: 'offset', skip: Number(raw) };
  const match = /^([ab])\.([A-Za-z0-9_-]{1,400})$/.exec(raw);
  const position = match ? Buffer.from(match[2]!, 'base64url').toString('utf8') : '';
  if (!match || !/^[\x21-\x7e]{1,200}$/.test(position)) throw new InvalidRequestError([BAD_CURSOR]);
  return { kind: match[1] === 'a' ? 'after' : 'before', position };
}

/** Case-insensitive match of a search text against any of the fields given. */
export function matchesText(text: string | undefined, fields: readonly (string | undefined)[]): boolean {
  if (!text) return true;
  const needle = text.toLowerCase();
  return fields.some((f) => f?.toLowerCase().includes(needle));
}
