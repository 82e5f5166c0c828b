import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { MAILBOX_DIMENSION } from './metric-names.js';
import { createLogger, createMetrics, logPort, metricsPort } from './powertools.js';
import type { Log, MetricsSink } from './ports.js';

export interface FunctionObservability {
  readonly log: Log;
  readonly metrics: MetricsSink;
  /** The function's handler engine: middy, with the Lambda context in every log line and metrics flushed after. */
  wrap<E, R>(handler: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R>;
}

/**
 * Metrics of one function for any number of mailboxes: one Powertools Metrics (EMF) per mailbox seen, each with the
 * mailbox as its `Mailbox` dimension, so alarms can group by mailbox without a resource per mailbox. Data points
 * without a mailbox go to the function's own instance.
 */
class MailboxMetrics {
  private readonly byMailbox = new Map<string, Metrics>();
  private readonly written = new Set<Metrics>();
  private readonly unscoped: Metrics;

  constructor(private readonly serviceName: string) {
    this.unscoped = createMetrics(serviceName);
  }

  readonly sink: MetricsSink = {
    add: (name, unit, value, mailboxId) => {
      const target = mailboxId === undefined ? this.unscoped : this.forMailbox(mailboxId);
      metricsPort(target).add(name, unit, value);
      this.written.add(target);
    },
  };

  /** Writes every buffered data point (Powertools prints nothing for an instance with none). */
  flush(): void {
    for (const metrics of this.written) metrics.publishStoredMetrics();
    this.written.clear();
  }

  private forMailbox(mailboxId: string): Metrics {
    let metrics = this.byMailbox.get(mailboxId);
    if (!metrics) {
      metrics = createMetrics(this.serviceName);
      metrics.setDefaultDimensions({ [MAILBOX_DIMENSION]: mailboxId });
      this.byMailbox.set(mailboxId, metrics);
    }
    return metrics;
  }
}

/**
 * Logs and metrics for one function. Tests and the local runner pass their own `log` and `metrics`; in Lambda
 * they are Powertools' structured logger and EMF metrics.
 */
export function functionObservability(
  serviceName: string,
  overrides: { log?: Log; metrics?: MetricsSink } = {},
): FunctionObservability {
  const logger = overrides.log ? undefined : createLogger(serviceName);
  const metrics = overrides.metrics ? undefined : new MailboxMetrics(serviceName);
  const flushMetrics = async () => metrics?.flush();
  return {
    log: overrides.log ?? logPort(logger!),
    metrics: overrides.metrics ?? metrics!.sink,
    wrap: <E, R>(handler: (event: E, context: Context) => Promise<R>) => {
      const engine = middy<E, R, Error, Context>(handler).use({
        after: flushMetrics,
        onError: flushMetrics,
      });
      if (logger) engine.use(injectLambdaContext(logger));
      return (event: E, context: Context) => engine(event, context);
    },
  };
}
