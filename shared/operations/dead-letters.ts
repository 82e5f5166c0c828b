import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DEFERRALS_ATTRIBUTE, RECEIVES_ATTRIBUTE } from '../aws/fair-queue.js';
import { senderFromKey } from '../outbound/addressing.js';

/** A dead-lettered message, as the redrive sees it. */
export interface DeadLetter {
  readonly body: string;
  /** The MessageGroupId it carried, when SQS kept it. */
  readonly groupId?: string;
}

export interface RedriveDeadLettersOptions {
  /**
   * The message group a message goes back under. Default: the group it carried, else the mailbox its body names
   * (see mailboxOfTask). A FIFO source always gets the group it carried.
   */
  readonly groupOf?: (message: DeadLetter) => Promise<string | undefined> | string | undefined;
  /**
   * The source is a fair queue whose every message must carry its mailbox as message group: a message whose group
   * cannot be told is left in the DLQ (and counted) rather than sent without one.
   */
  readonly requireGroup?: boolean;
  /** Long-poll wait of each receive. SQS's short poll (0) can answer empty while a few messages remain. */
  readonly waitSeconds?: number;
}

export interface DeadLetterRedrive {
  readonly moved: number;
  /** Messages left in the DLQ because no message group could be told for them. */
  readonly leftBehind: number;
}

const HIDE_SECONDS = 900;

/**
 * The operator's redrive (what the SQS console's "Start DLQ redrive" does, which the local SQS lacks): every
 * message in the DLQ is received, sent again to its source queue, body and attributes unchanged, and deleted from
 * the DLQ. On a fair queue each goes back under its mailbox's message group. Messages left behind are made visible
 * again at the end.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  sourceUrl: string,
  options: RedriveDeadLettersOptions = {},
): Promise<DeadLetterRedrive> {
  const fifo = sourceUrl.endsWith('.fifo');
  const groupOf = options.groupOf ?? ((m: DeadLetter) => m.groupId ?? mailboxOfTask(m.body));
  const leftBehind: string[] = [];
  let moved = 0;
  try {
    for (;;) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: options.waitSeconds ?? 0,
          VisibilityTimeout: HIDE_SECONDS,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
        }),
      );
      if (!Messages?.length) break;
      for (const [index, message] of Messages.entries()) {
        try {
          const carried = message.Attributes?.MessageGroupId;
          const group = fifo ? carried : await groupOf({ body: message.Body ?? '', groupId: carried });
          if (!fifo && group === undefined && options.requireGroup) {
            leftBehind.push(message.ReceiptHandle!);
            continue;
          }
          await sqs.send(sendAgain(message, sourceUrl, fifo, group));
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          moved++;
        } catch (error) {
          // What was not moved shows again at once, not after the hiding time.
          leftBehind.push(...Messages.slice(index).map((m) => m.ReceiptHandle!));
          throw error;
        }
      }
    }
  } finally {
    for (const handle of leftBehind) {
      await sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: dlqUrl,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => undefined);
    }
  }
  return { moved, leftBehind: leftBehind.length };
}

/** Moves every message of a DLQ back to its source queue; returns how many moved (the chaos run's operator step). */
export async function redrive(sqs: SQSClient, dlqUrl: string, sourceUrl: string): Promise<number> {
  return (await redriveDeadLetters(sqs, dlqUrl, sourceUrl)).moved;
}

function sendAgain(
  message: Message,
  sourceUrl: string,
  fifo: boolean,
  group: string | undefined,
): SendMessageCommand {
  return new SendMessageCommand({
    QueueUrl: sourceUrl,
    MessageBody: message.Body!,
    // A redriven task starts afresh: its deferrals and the receives it spent before the dead-letter queue are dropped,
    // so an operator's redrive gets every attempt again.
    MessageAttributes: withoutDeferrals(message.MessageAttributes),
    ...(fifo
      ? { MessageGroupId: group ?? 'redrive', MessageDeduplicationId: `redrive-${message.MessageId}` }
      : group === undefined
        ? {}
        : { MessageGroupId: group }),
  });
}

function withoutDeferrals(attributes: Message['MessageAttributes']): Message['MessageAttributes'] {
  if (!attributes || !(DEFERRALS_ATTRIBUTE in attributes || RECEIVES_ATTRIBUTE in attributes))
    return attributes;
  const { [DEFERRALS_ATTRIBUTE]: _deferrals, [RECEIVES_ATTRIBUTE]: _receives, ...rest } = attributes;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * The mailbox a work-queue message belongs to, read from its body: a download task's `mailboxId`, the sending
 * mailbox of an S3 event's first object key (`outbound/{MAILBOX}/...`), or any task's own `mailboxId`.
 * Undefined when the body names none (a continuation carries only its transfer id).
 */
export function mailboxOfTask(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const task = parsed as { mailboxId?: unknown; Records?: unknown };
  if (typeof task.mailboxId === 'string' && task.mailboxId !== '') return task.mailboxId;
  if (!Array.isArray(task.Records)) return undefined;
  const [first] = task.Records as { s3?: { object?: { key?: unknown } } }[];
  const key = first?.s3?.object?.key;
  if (typeof key !== 'string') return undefined;
  try {
    return senderFromKey(decodeURIComponent(key.replace(/\+/g, ' ')));
  } catch {
    return undefined;
  }
}
