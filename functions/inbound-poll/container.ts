import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { downloadTaskBody } from '../../shared/inbound/download-task.js';
import { InboxPoller, type PollSummary } from '../../shared/inbound/inbox-poller.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { ENV } from '../../shared/wiring/pipeline.js';
import { errorFields } from '../../shared/observability/ports.js';

/** Composition root of the poller: on each scheduled run, lists every mailbox it serves. */
export function createPollFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('inbound-poll', env, overrides);
  const { read, clients } = runtime;
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const requeueAfterMs = read.integer('REQUEUE_AFTER_SECONDS', 3600, { min: 0 }) * 1000;
  const maxRounds = read.integer('MAX_POLL_ROUNDS', 5, { min: 1, max: 100 });
  read.done();

  const poller = new InboxPoller({
    inbound: new InboundStore(clients.dynamo, runtime.tableName, overrides.now),
    meshClient: (mailboxId) => runtime.meshClient(mailboxId),
    enqueueDownload: async (mailboxId, messageId) => {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: downloadQueueUrl,
          MessageBody: downloadTaskBody(mailboxId, messageId),
        }),
      );
    },
    requeueAfterMs,
    maxRounds,
    log: runtime.log,
    metrics: runtime.metrics,
    now: overrides.now ? () => overrides.now!().getTime() : undefined,
  });
  const handler = async (_event: unknown, context: Context): Promise<PollSummary[]> => {
    const summaries: PollSummary[] = [];
    // Mailboxes are polled one after another; a failure of one is logged and the others still run.
    const failures: unknown[] = [];
    for (const mailbox of runtime.mailboxes) {
      try {
        summaries.push(await poller.poll(mailbox.id, () => context.getRemainingTimeInMillis()));
      } catch (error) {
        failures.push(error);
        runtime.log.error('inbox poll failed', { mailbox: mailbox.id, ...errorFields(error) });
      }
    }
    if (failures.length > 0) throw failures[0];
    return summaries;
  };
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}
