import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createLambdaContext } from '../runtime/lambda-context.js';

export interface ScheduleOptions {
  readonly functionName: string;
  readonly everyMs: number;
  readonly timeoutMs: number;
  readonly handler: (event: ScheduledEvent, context: Context) => Promise<unknown>;
  readonly onError: (error: unknown) => void;
}

/** EventBridge's rate schedule, locally: a run every `everyMs`, never two at once (a late run is skipped). */
export class LocalSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ScheduleOptions) {}

  start(runNow = true): void {
    this.timer = setInterval(() => void this.tick(), this.options.everyMs);
    if (runNow) void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs once now (waiting for a run in progress first). */
  async runNow(): Promise<void> {
    await this.running;
    await this.tick();
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'local',
      resources: [`arn:aws:events:local:000000000000:rule/${this.options.functionName}`],
      detail: {},
    };
    this.running = this.options
      .handler(event, createLambdaContext(this.options.functionName, this.options.timeoutMs))
      .then(
        () => undefined,
        (error: unknown) => this.options.onError(error),
      )
      .finally(() => {
        this.running = undefined;
      });
    await this.running;
  }
}
