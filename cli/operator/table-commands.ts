/**
 * `mesh table backfill-index`: gives transfers and inbound messages written before the console's byMailbox index
 * existed their index entry, so the console's inbox and outbox list them. Safe to run again, or while the pipeline
 * runs (shared/state/mailbox-index.ts).
 */
import type { Operations } from '../../shared/operations/aws.js';
import { backfillMailboxIndex } from '../../shared/state/mailbox-index.js';
import type { Output } from '../commands.js';

export async function backfillIndexCommand(ops: Operations, out: Output): Promise<void> {
  const result = await backfillMailboxIndex(ops.dynamo, ops.location.tableName);
  if (out.json) return out.result(result);
  out.say(
    result.found === 0
      ? 'every transfer and message already has its index entry: nothing to do'
      : `${result.updated} of ${result.found} record(s) without an index entry given one` +
          (result.updated < result.found ? ' (the rest were removed or given one meanwhile)' : ''),
  );
}
