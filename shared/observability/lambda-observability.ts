import type { Context } from 'aws-lambda';
import { MAILBOX_DIMENSION } from './metric-names.js';
import { createLogger, createMetrics, logPort, metricsPort } from './powertools.js';
import type { Log, MetricsSink } from './ports.js';

export interface FunctionObservability {
  readonly log: Log;
  readonly metrics: MetricsSink;
  /** Adds the Lambda context to logs and flushes metrics after each invocation. */
  wrap<E, R>(handler: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
}

/**
 * Logs and metrics for one function. Tests and the local runner pass their own `log` and `metrics`; in Lambda
 * they are Powertools' structured logger and EMF metrics, with the mailbox as a metric dimension.
 */
export function functionObservability(
  serviceName: string,
  mailboxIds: readonly string[],
  overrides: { log?: Log; metrics?: MetricsSink } = {},
): FunctionObservability {
  const logger = overrides.log ? undefined : createLogger(serviceName);
  const metrics = overrides.metrics ? undefined : createMetrics(serviceName);
  if (metrics) {
    metrics.setDefaultDimensions({
      [MAILBOX_DIMENSION]: mailboxIds.length === 1 ? mailboxIds[0]! : 'multiple',
    });
  }
  logger?.appendKeys({ mailboxes: mailboxIds.join(',') });
  return {
    log: overrides.log ?? logPort(logger!),
    metrics: overrides.metrics ?? metricsPort(metrics!),
    wrap: (handler) => async (event, context) => {
      logger?.addContext(context);
      try {
        return await handler(event, context);
      } finally {
        metrics?.publishStoredMetrics();
      }
    },
  };
}
