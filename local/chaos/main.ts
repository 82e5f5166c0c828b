import { parseArgs } from 'node:util';
import { runChaos } from './run-chaos.js';

/** `npm run chaos [-- --files N --seed S --max-bytes B --fault-rate R]`; the last line is the result as JSON. */
async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      files: { type: 'string' },
      seed: { type: 'string' },
      'max-bytes': { type: 'string' },
      'fault-rate': { type: 'string' },
      'timeout-minutes': { type: 'string' },
    },
    strict: true,
  });
  const number = (value: string | undefined, fallback: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${value}`);
    return n;
  };
  const result = await runChaos({
    files: number(values.files, 1000),
    seed: number(values.seed, Math.floor(Math.random() * 2 ** 31)),
    maxFileBytes: number(values['max-bytes'], 200 * 1024 * 1024),
    faultRate: number(values['fault-rate'], 0.1),
    timeoutMs: number(values['timeout-minutes'], 30) * 60_000,
    say: (line) => process.stdout.write(`${line}\n`),
  });
  const { faultsByKind: _kinds, seconds: _seconds, ackedNotStored: _acked, ...summary } = result;
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  const clean =
    result.lost === 0 &&
    result.duplicateMessages === 0 &&
    result.duplicateEvents === 0 &&
    result.ackedNotStored === 0;
  return clean ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
