import { z } from 'zod';

export const pageSchema = z.object({
  cursor: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  /** Pass as `cursor` for the next page; absent on the last. */
  readonly next?: string;
  readonly previous?: string;
}

/** One page of a list already filtered and in order. */
export function pageOf<T>(all: readonly T[], cursor: number, limit: number): Page<T> {
  const items = all.slice(cursor, cursor + limit);
  return {
    items,
    total: all.length,
    next: cursor + limit < all.length ? String(cursor + limit) : undefined,
    previous: cursor > 0 ? String(Math.max(0, cursor - limit)) : undefined,
  };
}

/** Case-insensitive match of a search text against any of the fields given. */
export function matchesText(text: string | undefined, fields: readonly (string | undefined)[]): boolean {
  if (!text) return true;
  const needle = text.toLowerCase();
  return fields.some((f) => f?.toLowerCase().includes(needle));
}
