/**
 * Aborts MESH calls just before the invocation's own deadline, so an invocation never outlives its lease by doing
 * work (Lambda would kill it; a local runner would not).
 */
export function invocationDeadline(budget: { remainingMs(): number }): AbortSignal {
  return AbortSignal.timeout(Math.max(100, budget.remainingMs() - 500));
}
