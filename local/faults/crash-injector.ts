import { AsyncLocalStorage } from 'node:async_hooks';

/** Thrown where a fault plan says the function dies. Everything after it in that invocation fails too. */
export class InjectedCrash extends Error {
  constructor(readonly point: string) {
    super(`injected crash at ${point}`);
    this.name = 'InjectedCrash';
  }
}

/**
 * Decides, per external call, whether the invocation dies just before or just after it. `target` says what the
 * call was aimed at, where the injector knows: an AWS call's QueueUrl, TableName or Bucket.
 */
export interface CrashPlan {
  before?(point: string, target?: string): boolean;
  after?(point: string, target?: string): boolean;
}

interface InvocationState {
  readonly plan: CrashPlan;
  dead?: string;
}

/**
 * Simulates a Lambda dying mid-invocation, for tests and the chaos run only (nothing under functions/ or shared/
 * imports this). Once a crash fires, every later external call in the same invocation fails, so no cleanup code
 * runs: what is left behind is what a real crash would leave.
 */
export class CrashInjector {
  private readonly storage = new AsyncLocalStorage<InvocationState>();

  /** Runs one invocation under a plan. */
  run<T>(plan: CrashPlan, invocation: () => Promise<T>): Promise<T> {
    return this.storage.run({ plan }, invocation);
  }

  /** Wraps one external call named `point` (e.g. `dynamodb:UpdateItem`, `mesh:sendMessage`). */
  async around<T>(point: string, call: () => Promise<T>, target?: string): Promise<T> {
    const state = this.storage.getStore();
    if (!state) return call();
    if (state.dead) throw new InjectedCrash(`${point} (after crash at ${state.dead})`);
    if (state.plan.before?.(point, target)) {
      state.dead = `before ${point}`;
      throw new InjectedCrash(state.dead);
    }
    const result = await call();
    if (state.plan.after?.(point, target)) {
      state.dead = `after ${point}`;
      releaseStreams(result);
      throw new InjectedCrash(state.dead);
    }
    return result;
  }

  /** Adds the injector to an AWS SDK v3 client's middleware stack. */
  instrumentAwsClient(client: AwsClientWithMiddleware, service: string): void {
    const middleware =
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) =>
        this.around(
          `${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`,
          () => next(args),
          targetOf(args),
        );
    const add = client.middlewareStack.add as (m: unknown, o: { step: string; name: string }) => void;
    add.call(client.middlewareStack, middleware, { step: 'initialize', name: 'crashInjector' });
  }

  /** Wraps an object's async methods (e.g. a MeshClient) so each call is a crash point `prefix:method`. */
  instrumentObject<T extends object>(target: T, prefix: string, methods: readonly string[]): T {
    return new Proxy(target, {
      get: (obj, property, receiver) => {
        const value = Reflect.get(obj, property, receiver) as unknown;
        if (typeof property !== 'string' || !methods.includes(property) || typeof value !== 'function')
          return value;
        return (...args: unknown[]) =>
          this.around(`${prefix}:${property}`, () =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args),
          );
      },
    });
  }
}

/**
 * A process that dies closes its connections; a simulated death must too. A response body nobody will ever read
 * (a chunk download's, an S3 object's) otherwise keeps its connection open and paused for good, and the pool it
 * belongs to never finishes closing: how `npm test`'s chaos run once hung in its teardown after settling.
 */
function releaseStreams(result: unknown): void {
  const r = result as { body?: unknown; output?: { Body?: unknown }; response?: { body?: unknown } } | null;
  // The call's own result, a MESH answer's body, and an AWS SDK call's (its output's Body, its raw response's body).
  for (const candidate of [result, r?.body, r?.output?.Body, r?.response?.body]) {
    const stream = candidate as { destroy?: unknown; pipe?: unknown } | null | undefined;
    if (typeof stream?.destroy === 'function' && typeof stream.pipe === 'function')
      (stream.destroy as () => void).call(stream);
  }
}

/** What an AWS call is aimed at: its queue, table or bucket. */
function targetOf(args: unknown): string | undefined {
  const input = (args as { input?: Record<string, unknown> } | undefined)?.input;
  const target = input?.QueueUrl ?? input?.TableName ?? input?.Bucket;
  return typeof target === 'string' ? target : undefined;
}

/** The part of an AWS SDK v3 client the injector needs. */
export interface AwsClientWithMiddleware {
  readonly middlewareStack: { readonly add: unknown };
}
