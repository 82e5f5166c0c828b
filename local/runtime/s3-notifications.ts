import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3EventRecord } from 'aws-lambda';

export interface S3NotificationRule {
  readonly bucket: string;
  readonly prefix: string;
  readonly queueUrl: string;
}

/**
 * S3 event notifications to SQS, locally: each ObjectCreated record under a rule's bucket and prefix becomes a
 * queue message shaped as S3 sends it (`{"Records":[...]}`).
 */
export function bridgeS3Notifications(
  sqs: SQSClient,
  subscribe: (listener: (record: S3EventRecord) => void) => () => void,
  rules: readonly S3NotificationRule[],
  onError: (error: unknown) => void = () => undefined,
  /** Chaos runs only: when true, a notification is delivered twice, as S3 occasionally does. */
  duplicate: () => boolean = () => false,
): () => void {
  return subscribe((record) => {
    if (!record.eventName.startsWith('ObjectCreated:')) return;
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    for (const rule of rules) {
      if (record.s3.bucket.name !== rule.bucket || !key.startsWith(rule.prefix)) continue;
      const send = () =>
        sqs
          .send(
            new SendMessageCommand({
              QueueUrl: rule.queueUrl,
              MessageBody: JSON.stringify({ Records: [record] }),
            }),
          )
          .catch(onError);
      void send();
      if (duplicate()) void send();
    }
  });
}
