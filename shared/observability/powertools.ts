import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Log, MetricsSink } from './ports.js';

export const METRICS_NAMESPACE = 'NhsMeshPipeline';

/** Structured JSON logs (Powertools Logger) under one service name per function. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

export function logPort(logger: Logger): Log {
  return {
    debug: (message, extra) => logger.debug(message, extra ?? {}),
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}

export function metricsPort(metrics: Metrics): MetricsSink {
  return {
    add: (name, unit, value) => metrics.addMetric(name, MetricUnit[unit], value),
  };
}
