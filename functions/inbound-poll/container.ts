import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { downloadTaskBody } from '../../shared/inbound/download-task.js';
import { InboxPoller } from '../../shared/inbound/inbox-poller.js';
import { PollScheduler } from '../../shared/inbound/poll-scheduler.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { ENV, FUNCTIONS, TUNING } from '../../shared/wiring/pipeline.js';
import { createPollHandler } from './handler.js';

/** Composition root of the poller: every minute, polls the registered mailboxes whose poll is due. */
export function createPollFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('inboundPoll', env, overrides);
  const { read, clients } = runtime;
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const requeueAfterMs = read.setting(TUNING.requeueAfterSeconds) * 1000;
  const maxRounds = read.setting(TUNING.maxPollRounds);
  const concurrency = read.setting(TUNING.pollConcurrency);
  const intervalScale = read.setting(TUNING.pollIntervalScale);
  read.done();
  const trigger = FUNCTIONS.inboundPoll.trigger;
  const scheduleEveryMinutes = trigger.kind === 'schedule' ? trigger.everyMinutes : 1;

  const nowMs = overrides.now ? () => overrides.now!().getTime() : undefined;
  const poller = new InboxPoller({
    inbound: new InboundStore(clients.dynamo, runtime.tableName, overrides.now),
    meshClient: (mailboxId) => runtime.meshClient(mailboxId),
    enqueueDownload: (mailboxId, messageId) =>
      sendForMailbox(clients.sqs, downloadQueueUrl, downloadTaskBody(mailboxId, messageId), mailboxId),
    requeueAfterMs,
    maxRounds,
    log: runtime.log,
    metrics: runtime.metrics,
    now: nowMs,
  });
  const scheduler = new PollScheduler({
    mailboxes: () => runtime.registry.list(),
    claimPoll: (mailboxId, intervalMs) => runtime.registry.claimPoll(mailboxId, intervalMs),
    poll: (mailboxId, remainingMs) => poller.poll(mailboxId, remainingMs),
    concurrency,
    intervalScale,
    minRemainingMs: 15_000,
    // A run waits for polls by the real clock: not with a clock given for a test.
    periodMs: overrides.now ? 0 : scheduleEveryMinutes * 60_000 * intervalScale,
    log: runtime.log,
    metrics: runtime.metrics,
    now: nowMs,
  });
  return { handler: runtime.wrap(createPollHandler(scheduler)), close: () => runtime.close() };
}
