import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Sends to one of the shared work queues (send, download) with the mailbox as MessageGroupId: on an SQS fair queue
 * that keeps one mailbox's backlog from holding up the others'. Without a mailbox the message is sent ungrouped.
 */
export async function sendForMailbox(
  sqs: SQSClient,
  queueUrl: string,
  body: string,
  mailboxId: string | undefined,
  delaySeconds?: number,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: mailboxId,
      DelaySeconds: delaySeconds,
    }),
  );
}
