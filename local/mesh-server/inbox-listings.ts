/**
 * When each mailbox listed its inbox: server-side evidence of how often a client polls. Every inbox page answered
 * 200 is recorded, by the server clock, as a first page (a poll) or a continuation (`continue_from`, the same
 * poll reading on).
 */

export interface InboxListing {
  mailbox: string;
  /** The server clock when the page was served, ISO 8601. */
  at: string;
  /** The same instant in epoch milliseconds. */
  atMs: number;
  /** `first`: a listing without `continue_from`, i.e. a new poll; `continuation`: a later page of one. */
  page: 'first' | 'continuation';
  /** Message ids on the page (after any workflow filter). */
  messages: number;
  /** Whether the page had a `links.next`. */
  more: boolean;
}

export interface InboxListingQuery {
  /** Only this mailbox (case-insensitive). */
  mailbox?: string;
  /** Only listings at or after this instant. */
  since?: Date;
}

export class InboxListingLog {
  private readonly byMailbox = new Map<string, InboxListing[]>();

  record(listing: InboxListing): void {
    let list = this.byMailbox.get(listing.mailbox);
    if (!list) this.byMailbox.set(listing.mailbox, (list = []));
    list.push(listing);
  }

  /** Listings in the order they were served (by time, then mailbox order for the same millisecond). */
  list(query: InboxListingQuery = {}): InboxListing[] {
    const lists =
      query.mailbox === undefined
        ? [...this.byMailbox.values()]
        : [this.byMailbox.get(query.mailbox.toUpperCase()) ?? []];
    const since = query.since?.getTime() ?? -Infinity;
    const out = lists.flatMap((list) => list.filter((l) => l.atMs >= since)).map((l) => ({ ...l }));
    return lists.length > 1 ? out.sort((a, b) => a.atMs - b.atMs) : out;
  }

  clear(): void {
    this.byMailbox.clear();
  }
}
