import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { HealthCheck } from '../../shared/health/health-check.js';
import { TUNING } from '../../shared/wiring/pipeline.js';
import { createHealthHandler } from './handler.js';

/** Composition root of the health function: checks every mailbox in the registry, paused ones included. */
export function createHealthFunction(env: NodeJS.ProcessEnv, overrides: FunctionOverrides = {}) {
  const runtime = functionRuntime('health', env, overrides);
  const concurrency = runtime.read.setting(TUNING.healthConcurrency);
  runtime.read.done();

  const check = new HealthCheck({
    credentials: (mailboxId) => runtime.credentials(mailboxId),
    handshake: async (mailboxId, signal) => (await runtime.meshClient(mailboxId)).handshake(signal),
    metrics: runtime.metrics,
    log: runtime.log,
    now: overrides.now,
  });
  const handler = createHealthHandler(
    check,
    async () => (await runtime.mailboxes.all()).map((m) => m.id),
    concurrency,
    runtime.log,
  );
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}
