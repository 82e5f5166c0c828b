import type { IncomingMessage } from 'node:http';
import type { LocalMailbox, ResolvedServerConfig } from '../config.js';
import type { FaultBook } from '../faults.js';
import type { InboxListingLog } from '../inbox-listings.js';
import type { Mailroom } from '../mailroom.js';
import type { ReplayCache } from '../replay-cache.js';
import type { Reply } from '../reply.js';
import type { RouteParams } from '../routes.js';
import type { StatsRecorder } from '../stats.js';

/** Everything the server holds; one instance per running server. */
export interface ServerState {
  readonly config: ResolvedServerConfig;
  readonly mailroom: Mailroom;
  readonly stats: StatsRecorder;
  readonly faults: FaultBook;
  readonly replay: ReplayCache;
  /** Milliseconds after upload before a message shows in tracking by local id and in the outbox listing. */
  readonly tracking: { lagMs: number };
  /** Every inbox page served, per mailbox. */
  readonly listings: InboxListingLog;
}

export interface MeshRequest {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly params: RouteParams;
  readonly state: ServerState;
}

/** A handler for an endpoint that needs no NHSMESH token. */
export type PublicHandler = (request: MeshRequest) => Promise<Reply>;

/** A handler for an endpoint behind NHSMESH auth; `mailbox` is the authenticated one. */
export type MailboxHandler = (request: MeshRequest, mailbox: Readonly<LocalMailbox>) => Promise<Reply>;
