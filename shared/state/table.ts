/**
 * The pipeline's single DynamoDB table, described once for both the CDK stack and the local emulator so the two
 * cannot drift apart.
 */
export const TABLE_KEYS = { partition: 'pk', sort: 'sk' } as const;

export const TABLE_INDEXES = {
  /** Outbound transfers by MESH message id; inbound messages by message id. */
  byMessageId: { name: 'byMessageId', partition: 'gsi1pk', sort: 'gsi1sk' },
  /** Outbound transfers by sending mailbox and local id. */
  byLocalId: { name: 'byLocalId', partition: 'gsi2pk', sort: 'gsi2sk' },
  /** Sparse: outbound transfers awaiting a delivery check, ordered by when the next check is due. */
  byTrackingDue: { name: 'byTrackingDue', partition: 'gsi3pk', sort: 'gsi3sk' },
  /**
   * One mailbox's records in the order they were created: its outbound transfers (`OUTBOX#{sender}`) and its
   * inbound messages (`INBOX#{mailbox}`), sorted by `{createdAt}#{id}`, so the console reads a page of them, newest
   * first, without reading anything else (shared/state/mailbox-index.ts). Written when a record is created.
   */
  byMailbox: { name: 'byMailbox', partition: 'gsi4pk', sort: 'gsi4sk' },
} as const;

/** Attribute that DynamoDB's TTL deletes records by (epoch seconds). */
export const TTL_ATTRIBUTE = 'expiresAt';

export interface TableDefinition {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly indexes: readonly {
    readonly name: string;
    readonly partitionKey: string;
    readonly sortKey: string;
  }[];
}

export const TABLE_DEFINITION: TableDefinition = {
  partitionKey: TABLE_KEYS.partition,
  sortKey: TABLE_KEYS.sort,
  indexes: Object.values(TABLE_INDEXES).map((i) => ({
    name: i.name,
    partitionKey: i.partition,
    sortKey: i.sort,
  })),
};
