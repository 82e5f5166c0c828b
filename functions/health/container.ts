import { functionRuntime, type FunctionOverrides } from '../../shared/config/function-runtime.js';
import { HealthCheck } from '../../shared/health/health-check.js';
import { TUNING } from '../../shared/wiring/pipeline.js';
import { createHealthHandler, healthRecordOf } from './handler.js';

/**
 * Composition root of the health function: checks every mailbox in the registry, paused ones included, and records
 * each outcome on the mailbox's registry record.
 */
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
  const now = overrides.now ?? (() => new Date());
  const handler = createHealthHandler(
    check,
    async () => (await runtime.mailboxes.all()).map((m) => m.id),
    concurrency,
    runtime.log,
    (result) => runtime.registry.recordHealth(result.mailboxId, healthRecordOf(result, now())),
  );
  return { handler: runtime.wrap(handler), close: () => runtime.close() };
}
