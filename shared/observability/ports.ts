/** The logging the pipeline's logic needs; Powertools' Logger satisfies it. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds';

/** The metrics the pipeline's logic emits; backed by Powertools Metrics (CloudWatch EMF) in Lambda. */
export interface MetricsSink {
  /** Adds a data point; with `mailboxId` it is counted under that mailbox's `Mailbox` dimension. */
  add(name: string, unit: MetricUnit, value: number, mailboxId?: string): void;
}

export const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
export const noMetrics: MetricsSink = { add: () => {} };

/** Turns any thrown value into log-safe fields: names, codes and messages, never request or response bodies. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error && typeof error === 'object' && 'toJSON' in error && typeof error.toJSON === 'function') {
    return { error: error.toJSON() as unknown };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown; Code?: unknown }).code ?? (error as { Code?: unknown }).Code;
    return {
      error: { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined },
    };
  }
  return { error: { message: String(error) } };
}
