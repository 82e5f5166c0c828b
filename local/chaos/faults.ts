import type { FaultRule } from '../mesh-server/index.js';
import { CrashInjector, type CrashPlan } from '../faults/crash-injector.js';
import type { AwsClientWithMiddleware } from '../faults/crash-injector.js';

/** Counts of every fault the chaos run injected, by kind. */
export class FaultTally {
  readonly counts = new Map<string, number>();

  add(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
}

/** MESH-side faults: each endpoint misbehaves on a seeded fraction of requests, in every way MESH or a network can. */
export function meshFaultRules(rate: number, seed: number): FaultRule[] {
  const endpoints = ['send', 'chunk', 'download', 'ack', 'inbox', 'head', 'tracking'] as const;
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

/** A crash plan: each external call dies before or after with a seeded probability. */
export function crashPlan(random: () => number, probability: number, tally: FaultTally): CrashPlan {
  return {
    before: (point) => {
      if (random() >= probability) return false;
      tally.add(`crash-before:${point.split(':')[0]}`);
      return true;
    },
    after: (point) => {
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
  rate: number,
  tally: FaultTally,
) {
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    if (random() < rate) {
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

export { CrashInjector };
