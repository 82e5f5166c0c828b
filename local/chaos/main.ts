import { parseArgs } from 'node:util';
import { fileLog } from '../pipeline/file-log.js';
import { DEFAULT_TIME_SCALE, runChaos } from './run-chaos.js';

/**
 * `npm run chaos [-- --files N --seed S --max-bytes B --fault-rate R --time-scale F --log FILE]`; the last line is
 * the result as JSON.
 */
async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      files: { type: 'string' },
      seed: { type: 'string' },
      'max-bytes': { type: 'string' },
      'fault-rate': { type: 'string' },
      'timeout-minutes': { type: 'string' },
      'time-scale': { type: 'string' },
      'tracking-lag-seconds': { type: 'string' },
      log: { type: 'string' },
    },
    strict: true,
  });
  const number = (value: string | undefined, fallback: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${value}`);
    return n;
  };
  // --time-scale takes 1/30 or 0.0333.
  const scale = values['time-scale']?.includes('/')
    ? values['time-scale']
        .split('/')
        .map(Number)
        .reduce((a, b) => a / b)
    : number(values['time-scale'], DEFAULT_TIME_SCALE);
  const log = values.log ? fileLog(values.log) : undefined;
  try {
    const result = await runChaos({
      files: number(values.files, 1000),
      seed: number(values.seed, Math.floor(Math.random() * 2 ** 31)),
      maxFileBytes: number(values['max-bytes'], 200 * 1024 * 1024),
      faultRate: number(values['fault-rate'], 0.1),
      // Every task passes its mailbox's gate since one fleet serves all mailboxes: at 3 mailboxes with a cap of 2 each,
      // the default run takes longer than the 16 minutes it took before, so it is given an hour.
      timeoutMs: number(values['timeout-minutes'], 60) * 60_000,
      timeScale: scale,
      trackingLagSeconds: number(values['tracking-lag-seconds'], 1200),
      say: (line) => process.stdout.write(`${line}\n`),
      log,
    });
    const summary = {
      scenario: result.scenario,
      files: result.files,
      faults: result.faults,
      delivered: result.delivered,
      terminalFailures: result.terminalFailures,
      wrongTerminal: result.wrongTerminal,
      lost: result.lost,
      duplicateMessages: result.duplicateMessages,
      duplicateEvents: result.duplicateEvents,
      ackedNotStored: result.ackedNotStored,
      redriven: result.redriven,
      seed: result.seed,
      duplicateStatusEvents: result.duplicateStatusEvents,
      badSequences: result.badSequences,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    const clean =
      result.lost === 0 &&
      result.duplicateMessages === 0 &&
      result.duplicateEvents === 0 &&
      result.wrongTerminal === 0 &&
      result.ackedNotStored === 0 &&
      result.badSequences === 0;
    return clean ? 0 : 1;
  } finally {
    await log?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
