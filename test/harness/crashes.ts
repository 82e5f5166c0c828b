import type { Context, SQSEvent } from 'aws-lambda';
import type { CrashInjector, CrashPlan } from '../../local/faults/crash-injector.js';
import type { MeshClient } from '../../shared/mesh/index.js';

/** A crash plan per invocation, and the injector that carries it out. */
export interface Crashes {
  readonly injector: CrashInjector;
  readonly plan: () => CrashPlan;
}

/** Makes each listed MESH client method a crash point (`mesh:method`); nothing without a crash plan. */
export function crashingMeshClient(crashes: Crashes | undefined, methods: readonly string[]) {
  return crashes
    ? (client: MeshClient) => crashes.injector.instrumentObject(client, 'mesh', methods)
    : undefined;
}

/** Runs each invocation of `handler` under a fresh crash plan; the handler as it is without one. */
export function crashingHandler<R>(
  crashes: Crashes | undefined,
  handler: (event: SQSEvent, context: Context) => Promise<R>,
): (event: SQSEvent, context: Context) => Promise<R> {
  return crashes
    ? (event, context) => crashes.injector.run(crashes.plan(), () => handler(event, context))
    : handler;
}
