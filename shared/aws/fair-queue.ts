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
  deferrals?: number,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: mailboxId,
      DelaySeconds: delaySeconds,
      MessageAttributes:
        deferrals === undefined || deferrals === 0
          ? undefined
          : { [DEFERRALS_ATTRIBUTE]: { DataType: 'Number', StringValue: String(deferrals) } },
    }),
  );
}

/** Message attribute counting how often a task was put back for a busy mailbox (the body stays as it came). */
export const DEFERRALS_ATTRIBUTE = 'deferrals';

/** The deferrals a received task carries (0 when none, or unreadable). */
export function deferralsOf(record: {
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string }>>;
}): number {
  const value = Number(record.messageAttributes?.[DEFERRALS_ATTRIBUTE]?.stringValue);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}
