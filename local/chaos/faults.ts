import type { FaultRule, MeshServerLogLine } from '../mesh-server/index.js';
import { CrashInjector, type CrashPlan } from '../faults/crash-injector.js';
import type { AwsClientWithMiddleware } from '../faults/crash-injector.js';

/**
 * Counts, by kind, of every fault the chaos run injected, and of a few moments it watches for (a fault that hit a
 * particular spot: the last receive, a lost reply followed by failing tracking). Only injected faults make the total.
 */
export class FaultTally {
  readonly counts = new Map<string, number>();
  /** Kinds that name a moment, not an injection of their own; counted by kind, not in the total. */
  readonly observed = new Set<string>();

  add(kind: string, by = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + by);
  }

  observe(kind: string): void {
    this.observed.add(kind);
    this.add(kind);
  }

  get total(): number {
    return [...this.counts.entries()].reduce((a, [kind, n]) => a + (this.observed.has(kind) ? 0 : n), 0);
  }

  byKind(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** The kinds the chaos run injects on purpose: the chaos test requires each to have fired at least once. */
export const NEW_FAULT_KINDS = [
  'mesh:ack:403',
  'mesh:ack:500',
  'reply-lost:chunk',
  'reply-lost:send',
  'reply-lost-then-tracking-failed',
  's3-deleted-after-upload',
  's3-403-missing-object',
  'crash-after:event-publish',
] as const;

/**
 * Kinds the run can only observe, since whether they come up depends on timing: a refused acknowledgement that
 * happens to fall on a message's last receive, a recovery lookup that happens to run while tracking lags. Each has
 * its own deterministic test (test/integration/functions/inbound-acknowledgement.test.ts and
 * outbound-unknown-outcomes.test.ts); the chaos run counts them when they come up.
 */
export const OBSERVED_FAULT_KINDS = ['ack-refused-on-last-receive', 'tracking-lag'] as const;

/** MESH-side faults: each endpoint misbehaves on a seeded fraction of requests, in every way MESH or a network can. */
export function meshFaultRules(rate: number, seed: number): FaultRule[] {
  const endpoints = ['send', 'chunk', 'download', 'ack', 'inbox', 'head', 'tracking', 'outbox'] as const;
  const actions: FaultRule['action'][] = [
    { type: 'status', status: 429, retryAfterSeconds: 0 },
    { type: 'status', status: 503, retryAfterSeconds: 1 },
    { type: 'status', status: 500 },
    { type: 'reset', phase: 'request', afterBytes: 512 },
    { type: 'reset', phase: 'response', afterBytes: 64 },
    { type: 'latency', ms: 800 },
  ];
  const each = rate / actions.length;
  return endpoints.flatMap((endpoint, e) =>
    actions.map((action, a) => ({
      endpoint,
      times: 'always' as const,
      probability: each,
      seed: seed + e * 100 + a,
      action,
    })),
  );
}

/**
 * The new MESH faults, ahead of the general ones (the first rule that fires wins):
 * - every acknowledgement by `refusingMailbox` answered 403 or 500 (until the operator step lifts it), so its
 *   messages meet a failing acknowledgement on every receive, the last one included; elsewhere, a few;
 * - the reply to a chunk upload (the final one among them) or to a single-chunk send lost after MESH stored it;
 * - tracking (by message id and by local id) and the outbox listing failing often meanwhile.
 */
export function newMeshFaultRules(rate: number, seed: number, refusingMailbox: string): FaultRule[] {
  const lost = { type: 'reset', phase: 'response', afterBytes: 0 } as const;
  return [
    {
      endpoint: 'ack',
      mailbox: refusingMailbox,
      times: 'always',
      probability: 0.5,
      seed,
      action: { type: 'status', status: 403 },
    },
    { endpoint: 'ack', mailbox: refusingMailbox, times: 'always', action: { type: 'status', status: 500 } },
    {
      endpoint: 'ack',
      times: 'always',
      probability: rate * 0.3,
      seed: seed + 1,
      action: { type: 'status', status: 403 },
    },
    {
      endpoint: 'ack',
      times: 'always',
      probability: rate * 0.3,
      seed: seed + 2,
      action: { type: 'status', status: 500 },
    },
    { endpoint: 'chunk', times: 'always', probability: rate * 1.5, seed: seed + 3, action: lost },
    { endpoint: 'send', times: 'always', probability: rate * 0.3, seed: seed + 4, action: lost },
    {
      endpoint: 'tracking',
      times: 'always',
      probability: 0.25,
      seed: seed + 5,
      action: { type: 'status', status: 403 },
    },
    {
      endpoint: 'tracking',
      times: 'always',
      probability: 0.2,
      seed: seed + 6,
      action: { type: 'status', status: 500 },
    },
    { endpoint: 'tracking', times: 'always', probability: 0.1, seed: seed + 7, action: lost },
    {
      endpoint: 'outbox',
      times: 'always',
      probability: 0.2,
      seed: seed + 8,
      action: { type: 'status', status: 500 },
    },
  ];
}

/**
 * Tallies MESH faults from the server's own request log, by endpoint and action (`mesh:ack:403`,
 * `mesh:chunk:reset-response`...), a lost reply of a chunk or send as `reply-lost:<endpoint>`, and, when the
 * mailbox's next tracking request after a lost reply failed too, `reply-lost-then-tracking-failed`.
 */
export function meshLogTally(tally: FaultTally): (line: MeshServerLogLine) => void {
  const replyLost = new Map<string, boolean>();
  return (line) => {
    if (line.event !== 'request') return;
    const mailbox = line.mailbox ?? '';
    if (line.endpoint === 'tracking' || line.endpoint === 'outbox') {
      if (replyLost.get(mailbox) && line.fault) tally.observe('reply-lost-then-tracking-failed');
      if (line.endpoint === 'tracking') replyLost.delete(mailbox);
    }
    if (!line.fault) return;
    const [type, detail, more] = line.fault.split(':');
    const label = type === 'status' ? detail : type === 'reset' ? `reset-${detail}` : type;
    tally.add(`mesh:${line.endpoint}:${label}`);
    if (type === 'reset' && detail === 'response' && more === '0') {
      if (line.endpoint === 'chunk' || line.endpoint === 'send') {
        tally.observe(`reply-lost:${line.endpoint}`);
        replyLost.set(mailbox, true);
      }
    }
  };
}

/**
 * A crash plan: each external call dies before or after with a seeded probability; in addition, a publish to one
 * of the event queues (`eventQueueUrls`) is followed by a crash with `eventProbability`, before the event can be
 * cleared from its record. Nothing fires while `enabled()` is false (after the operator step).
 */
export function crashPlan(
  random: () => number,
  probability: number,
  tally: FaultTally,
  events: { readonly queueUrls: ReadonlySet<string>; readonly probability: number },
  enabled: () => boolean,
): CrashPlan {
  return {
    before: (point) => {
      if (!enabled() || random() >= probability) return false;
      tally.add(`crash-before:${point.split(':')[0]}`);
      return true;
    },
    after: (point, target) => {
      if (!enabled()) return false;
      if (point === 'sqs:SendMessage' && target !== undefined && events.queueUrls.has(target)) {
        if (random() >= events.probability + probability) return false;
        tally.add('crash-after:event-publish');
        return true;
      }
      if (random() >= probability) return false;
      tally.add(`crash-after:${point.split(':')[0]}`);
      return true;
    },
  };
}

/**
 * AWS-side throttling: on a seeded fraction of calls the SDK sees a ThrottlingException inside its retry loop
 * (the middleware sits after the retry step), as when a real service throttles.
 */
export function injectThrottling(
  client: AwsClientWithMiddleware,
  random: () => number,
  rate: () => number,
  tally: FaultTally,
) {
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    if (random() < rate()) {
      tally.add('aws-throttle');
      throw Object.assign(new Error('Rate exceeded (injected)'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        $retryable: { throttling: true },
      });
    }
    return next(args);
  };
  const add = client.middlewareStack.add as (m: unknown, o: Record<string, string>) => void;
  add.call(client.middlewareStack, middleware, {
    step: 'finalizeRequest',
    priority: 'low',
    name: 'chaosThrottle',
  });
}

/** Counts the S3 answers of 403 the functions' client gets (reads of an object deleted from under them). */
export function countS3Forbidden(client: AwsClientWithMiddleware, tally: FaultTally) {
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 403) tally.observe('s3-403-missing-object');
      throw error;
    }
  };
  const add = client.middlewareStack.add as (m: unknown, o: Record<string, string>) => void;
  add.call(client.middlewareStack, middleware, { step: 'initialize', name: 'chaosS3Forbidden' });
}

export { CrashInjector };
