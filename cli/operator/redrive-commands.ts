/** `mesh redrive transfer|message|--dlq`: work that stopped, handed back to the functions that do it. */
import type { Operations } from '../../shared/operations/aws.js';
import { redriveDlq, redriveMessage, redriveTransfer } from '../../shared/operations/redrive.js';
import type { Output } from '../commands.js';

export async function redriveTransferCommand(
  ops: Operations,
  out: Output,
  ref: string,
  options: { readonly mailbox?: string; readonly force?: boolean },
): Promise<void> {
  const r = await redriveTransfer(ops, ref, options);
  if (out.json) return out.result({ redriven: 'transfer', ...r });
  return out.say(
    `queued a continuation of transfer ${r.transferId} (${r.status}, ` +
      `${r.chunksSent}/${r.totalChunks ?? '?'} chunks) for mailbox ${r.mailboxId}: the send function ` +
      'carries on from its last checkpoint',
  );
}

export async function redriveMessageCommand(
  ops: Operations,
  out: Output,
  mailboxId: string,
  messageId: string,
  force: boolean | undefined,
): Promise<void> {
  const record = await redriveMessage(ops, mailboxId, messageId, { force });
  if (out.json) {
    return out.result({
      redriven: 'message',
      mailboxId,
      messageId,
      status: record.status,
    });
  }
  return out.say(
    `queued a new download task for message ${messageId} of ${mailboxId} (now ${record.status})`,
  );
}

export async function redriveDlqCommand(
  ops: Operations,
  out: Output,
  queue: 'send' | 'download',
): Promise<void> {
  const r = await redriveDlq(ops, queue);
  if (out.json) return out.result(r);
  out.say(`moved ${r.moved} message(s) from the ${queue} DLQ back to the ${queue} queue`);
  if (r.leftBehind > 0) {
    out.say(`${r.leftBehind} message(s) left in the DLQ: their mailbox could not be told from them`);
  }
}
