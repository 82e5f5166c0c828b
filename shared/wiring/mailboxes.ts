/**
 * Per-mailbox defaults and layout: the MESH concurrency cap unless MAILBOX_CONCURRENCY says otherwise, the bounds
 * MESH sets on a mailbox's poll interval, and where a mailbox's files go in the buckets.
 */

/** Concurrent MESH tasks per mailbox unless MAILBOX_CONCURRENCY says otherwise. */
export const DEFAULT_MAILBOX_CONCURRENCY = 2;

/** MESH asks each mailbox to be polled at most once every five minutes and at least once a day. */
export const MAILBOX_POLLING = {
  defaultIntervalSeconds: 300,
  minIntervalSeconds: 300,
  maxIntervalSeconds: 86_400,
} as const;

/** Where files go in the buckets. */
export const KEY_LAYOUT = {
  /** Outbound files are dropped under `outbound/{MAILBOX}/`. */
  outboundPrefix: (mailboxId: string) => `outbound/${mailboxId}/`,
  /** Inbound files land under `inbound/{MAILBOX}/{WORKFLOW}/{MESSAGE ID}/{FILENAME}`. */
  inboundPrefix: (mailboxId: string) => `inbound/${mailboxId}/`,
} as const;
