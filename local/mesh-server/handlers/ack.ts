import type { LocalMailbox } from '../config.js';
import { MeshErrors } from '../mesh-errors.js';
import { emptyReply, type Reply } from '../reply.js';
import type { MeshRequest } from './context.js';

/** Idempotent: acknowledging an acknowledged message is still 200 and changes nothing. */
export async function acknowledge(request: MeshRequest, mailbox: Readonly<LocalMailbox>): Promise<Reply> {
  const messageId = request.params.messageId!;
  const { mailroom, stats } = request.state;
  return mailroom.withLock(messageId, async () => {
    const record = mailroom.get(messageId);
    if (!record || record.status === 'uploading') throw MeshErrors.messageDoesNotExist(messageId);
    if (record.recipient !== mailbox.id) throw MeshErrors.forbidden();
    if (record.status === 'acknowledged') {
      stats.count('repeatedAcknowledgements');
      return emptyReply(200);
    }
    if (record.status !== 'accepted') throw MeshErrors.gone(messageId);
    await mailroom.acknowledge(record);
    stats.count('acknowledgements');
    return emptyReply(200);
  });
}
