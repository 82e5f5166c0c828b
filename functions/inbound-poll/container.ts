import { sendForMailbox } from '../../shared/aws/fair-queue.js';
import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { downloadTaskBody } from '../../shared/inbound/download-task.js';
import { InboxPoller } from '../../shared/inbound/inbox-poller.js';
import { PollScheduler } from '../../shared/inbound/poll-scheduler.js';
import { MailboxSlots } from '../../shared/registry/mailbox-slots.js';
import { ParkedTasks } from '../../shared/registry/parked-tasks.js';
import { ParkedTaskWaker } from '../../shared/registry/task-parking.js';
import { InboundStore } from '../../shared/state/inbound-store.js';
import { ENV, FUNCTIONS, TUNING } from '../../shared/wiring/pipeline.js';
import { createPollHandler } from './handler.js';

/** Composition root of the poller: every minute, polls the registered mailboxes whose poll is due. */
export function createPollFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('inboundPoll', env, overrides);
  const { read, clients } = runtime;
  const downloadQueueUrl = read.string(ENV.downloadQueueUrl);
  const sendQueueUrl = read.string(ENV.sendQueueUrl);
  const mailboxConcurrency = read.setting(TUNING.mailboxConcurrency);
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
  // A run waits for polls by the real clock: not with a clock given for a test.
  const periodMs = overrides.now ? 0 : scheduleEveryMinutes * 60_000 * intervalScale;
  const scheduler = new PollScheduler({
    mailboxes: () => runtime.registry.list(),
    claimPoll: async (mailboxId, intervalMs) => {
      // The mailbox's client first (its registry record and secret, read or from cache), so that what follows the
      // claim is the listing alone: the claim's margin then covers how long that takes, not a secret read on a
      // busy event loop too, and MESH sees the polls as far apart as the claims. A mailbox whose client cannot be
      // had is still claimed: its poll fails, and is counted, as before.
      await runtime.meshClient(mailboxId).catch(() => undefined);
      return runtime.registry.claimPoll(mailboxId, intervalMs);
    },
    poll: (mailboxId, remainingMs) => poller.poll(mailboxId, remainingMs),
    concurrency,
    intervalScale,
    minRemainingMs: 15_000,
    periodMs,
    log: runtime.log,
    metrics: runtime.metrics,
    now: nowMs,
  });
  const queueUrls = { download: downloadQueueUrl, send: sendQueueUrl };
  const waker = new ParkedTaskWaker(
    new ParkedTasks(clients.dynamo, runtime.tableName),
    (queue, body, mailboxId, deferrals, receives) =>
      sendForMailbox(clients.sqs, queueUrls[queue], body, mailboxId, 0, deferrals, receives),
    runtime.log,
  );
  const slots = new MailboxSlots(clients.dynamo, runtime.tableName, nowMs);
  const sweep = () =>
    waker.sweep((mailboxId) => slots.free(mailboxId, mailboxConcurrency), {
      // Tasks set aside within the last run's period are being woken by tasks ending; the sweep is for the rest.
      minAgeMs: periodMs,
      now: nowMs?.(),
    });
  return {
    handler: runtime.wrap(createPollHandler(scheduler, sweep, runtime.log)),
    close: () => runtime.close(),
  };
}
