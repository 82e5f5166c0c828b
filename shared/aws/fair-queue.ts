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
  receives?: number,
): Promise<void> {
  const attributes: Record<string, { DataType: 'Number'; StringValue: string }> = {};
  for (const [name, value] of [
    [DEFERRALS_ATTRIBUTE, deferrals],
    [RECEIVES_ATTRIBUTE, receives],
  ] as const) {
    if (value !== undefined && value > 0)
      attributes[name] = { DataType: 'Number', StringValue: String(value) };
  }
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: mailboxId,
      DelaySeconds: delaySeconds,
      MessageAttributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    }),
  );
}

/** Message attribute counting how often a task was put back for a busy mailbox (the body stays as it came). */
export const DEFERRALS_ATTRIBUTE = 'deferrals';

/**
 * Message attribute carrying the receives a task had already spent on earlier messages: a task set aside or put back
 * comes back as a new message, whose own receive count starts again at 1.
 */
export const RECEIVES_ATTRIBUTE = 'receives';

type ReceivedRecord = {
  readonly messageAttributes?: Readonly<Record<string, { readonly stringValue?: string }>>;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
};

function numberAttribute(record: ReceivedRecord, name: string): number {
  const value = Number(record.messageAttributes?.[name]?.stringValue);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** The deferrals a received task carries (0 when none, or unreadable). */
export function deferralsOf(record: ReceivedRecord): number {
  return numberAttribute(record, DEFERRALS_ATTRIBUTE);
}

/**
 * How many times the task has been received, this time included: this message's own receive count plus the receives
 * spent on the messages it came back from. The last-attempt rules count this, not the message's own count.
 */
export function receiveCountOf(record: ReceivedRecord): number {
  return (
    numberAttribute(record, RECEIVES_ATTRIBUTE) + (Number(record.attributes?.ApproximateReceiveCount) || 1)
  );
}
