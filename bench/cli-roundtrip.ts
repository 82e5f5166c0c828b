/**
 * The `mesh` CLI round trip of issue 2: a large file from mailbox X26ABC1 to X26ABC2 through the local MESH server
 * (in this process, storing messages on disk so its memory stays flat), with the real CLI run as child processes
 * for `send`, `inbox` and `download --ack`. Each child's wall time and peak RSS are measured; the SHA-256 of what
 * arrives must equal that of what was sent.
 *
 *   npx tsx bench/cli-roundtrip.ts [--size 1GiB] [--chunk-size 20MiB] [--no-compress] [--keep]
 *   npm run bench -- cli [same options]
 *
 * Progress goes to stderr; results go to stdout, the last line one JSON object.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startMeshServer } from '../local/mesh-server/index.js';
import { generateTestPki } from '../local/pki.js';
import {
  PASSWORD,
  RECIPIENT,
  SENDER,
  SHARED_SECRET,
  WORKFLOW,
  cliEnv,
  cpuPerGiBOf,
  describeMachine,
  formatMib,
  mbps,
  runMeasured,
  sha256OfFile,
  writeReporter,
  type CliStep,
} from './support/cli-process.js';

export type { CliStep };

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/** The target for the CLI process's peak RSS, in MB (10^6 bytes). */
export const CLI_RSS_TARGET_MB = 200;

export interface CliRoundTripOptions {
  /** Payload size in bytes. @default 1 GiB */
  readonly bytes?: number;
  /** `--chunk-size` for the send; the CLI's default (20 MiB) when omitted. */
  readonly chunkBytes?: number;
  /** `--no-compress` on the send. @default true */
  readonly compress?: boolean;
  /** Keep the temporary directory (payload, store, download) for inspection. @default false */
  readonly keep?: boolean;
  /** Progress lines. @default stderr */
  readonly progress?: (line: string) => void;
  /** Result lines: the human summary, then the JSON line. @default stdout */
  readonly say?: (line: string) => void;
}

export interface CliRoundTripResult {
  readonly scenario: 'cli';
  readonly bytes: number;
  /** Payload MB (10^6 bytes) a second over the send child's wall time, start-up included. */
  readonly sendMbps: number;
  readonly downloadMbps: number;
  readonly sendPeakRssMb: number;
  readonly downloadPeakRssMb: number;
  readonly sha256Match: boolean;
  /** CPU seconds per GiB of the `mesh send` and `mesh download` processes, whole (start-up included). */
  readonly sendCpuPerGiB: number;
  readonly downloadCpuPerGiB: number;
}

/**
 * Runs the round trip and prints its figures. Takes options, or the command-line arguments when called from the
 * `npm run bench` dispatcher.
 */
export async function runCliRoundTrip(
  input: CliRoundTripOptions | readonly string[] = {},
): Promise<CliRoundTripResult> {
  const options = Array.isArray(input) ? optionsFromArgs(input) : (input as CliRoundTripOptions);
  const bytes = options.bytes ?? GIB;
  const progress = options.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const say = options.say ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const machine = describeMachine();

  const dir = await mkdtemp(join(tmpdir(), 'mesh-cli-bench-'));
  const pki = await generateTestPki({ mailboxes: [SENDER, RECIPIENT] });
  const server = await startMeshServer({
    mailboxes: [
      { id: SENDER, password: PASSWORD, ods: 'X26' },
      { id: RECIPIENT, password: PASSWORD, ods: 'X26' },
    ],
    workflows: [{ id: WORKFLOW, senders: [SENDER], receivers: [RECIPIENT] }],
    sharedSecret: SHARED_SECRET,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    storeDir: join(dir, 'store'),
  });
  try {
    const senderEnv = await cliEnv(server.url, pki, join(dir, 'pki'), SENDER);
    const recipientEnv = await cliEnv(server.url, pki, join(dir, 'pki'), RECIPIENT);
    const reporter = await writeReporter(dir);
    const payload = join(dir, 'payload.bin');
    const received = join(dir, 'received.bin');

    progress(`generating ${formatMib(bytes)} of pseudo-random bytes in ${payload}`);
    const sourceSha = await writePayload(payload, bytes);

    const sendArgs = ['send', payload, '--to', RECIPIENT, '--workflow', WORKFLOW, '--json'];
    if (options.chunkBytes !== undefined) sendArgs.push('--chunk-size', String(options.chunkBytes));
    if (options.compress === false) sendArgs.push('--no-compress');
    progress(`mesh send (${options.compress === false ? 'no gzip' : 'gzip'})`);
    const send = await runMeasured(sendArgs, senderEnv, reporter);
    const sent = JSON.parse(send.stdout) as { messageId: string; chunks: number; sha256: string };

    progress('mesh inbox');
    const inbox = await runMeasured(['inbox', '--json'], recipientEnv, reporter);
    const listed = (JSON.parse(inbox.stdout) as { messageIds: string[] }).messageIds;
    if (!listed.includes(sent.messageId)) throw new Error(`message ${sent.messageId} is not in the inbox`);

    progress('mesh download --ack');
    const download = await runMeasured(
      ['download', sent.messageId, '--out', received, '--ack', '--json'],
      recipientEnv,
      reporter,
    );
    const got = JSON.parse(download.stdout) as { sha256: string; bytes: number; acknowledged: boolean };
    progress('hashing the downloaded file');
    const receivedSha = await sha256OfFile(received);
    const status = (await server.admin.getMessage(sent.messageId))?.status;

    const sha256Match =
      sent.sha256 === sourceSha &&
      got.sha256 === sourceSha &&
      receivedSha === sourceSha &&
      got.bytes === bytes;
    const result: CliRoundTripResult = {
      scenario: 'cli',
      bytes,
      sendMbps: mbps(bytes, send.step.ms),
      downloadMbps: mbps(bytes, download.step.ms),
      sendPeakRssMb: send.step.peakRssMb,
      downloadPeakRssMb: download.step.peakRssMb,
      sha256Match,
      sendCpuPerGiB: cpuPerGiBOf(send.step, bytes),
      downloadCpuPerGiB: cpuPerGiBOf(download.step, bytes),
    };

    say(machine);
    say(`payload: ${formatMib(bytes)} in ${sent.chunks} chunk(s), sha256 ${sourceSha}`);
    for (const step of [send.step, inbox.step, download.step]) {
      const rate = step === inbox.step ? '' : `, ${mbps(bytes, step.ms).toFixed(1)} MB/s`;
      const verdict = step.peakRssMb < CLI_RSS_TARGET_MB ? 'under' : 'OVER';
      say(
        `${step.command.padEnd(18)} ${(step.ms / 1000).toFixed(1).padStart(6)} s${rate}, ` +
          `peak RSS ${step.peakRssMb.toFixed(0)} MB (${verdict} the ${CLI_RSS_TARGET_MB} MB target), ` +
          `CPU ${(step.cpuMs / 1000).toFixed(2)} s`,
      );
    }
    say(`sha256 ${sha256Match ? 'matches' : 'DIFFERS'}; message ${sent.messageId} is ${status ?? 'missing'}`);
    say(JSON.stringify(result));
    if (!sha256Match) process.exitCode = 1;
    return result;
  } finally {
    await server.close();
    if (options.keep) progress(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}

function optionsFromArgs(args: readonly string[]): CliRoundTripOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      size: { type: 'string' },
      'chunk-size': { type: 'string' },
      'no-compress': { type: 'boolean' },
      keep: { type: 'boolean' },
    },
    strict: true,
  });
  return {
    bytes: values.size === undefined ? undefined : parseSize(values.size),
    chunkBytes: values['chunk-size'] === undefined ? undefined : parseSize(values['chunk-size']),
    compress: !values['no-compress'],
    keep: values.keep,
  };
}

function parseSize(text: string): number {
  const m = /^(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a size (e.g. 1GiB, 20MiB, 6000000)`);
  const factor: Record<string, number> = { B: 1, KIB: 1024, MIB, GIB, KB: 1e3, MB: 1e6, GB: 1e9 };
  return Number(m[1]) * factor[(m[2] ?? 'B').toUpperCase()]!;
}

/**
 * Streams `bytes` of payload to `path` and returns its SHA-256. The payload is 1 MiB blocks drawn from a pool of
 * 16 random blocks: cheap to make, and no repeat falls inside gzip's 32 KiB window, so it does not compress
 * (the worst case for the sender's CPU and for the bytes on the wire).
 */
async function writePayload(path: string, bytes: number): Promise<string> {
  const pool = Array.from({ length: 16 }, () => randomBytes(MIB));
  const hash = createHash('sha256');
  const out = createWriteStream(path, { highWaterMark: 4 * MIB });
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  for (let offset = 0, block = 0; offset < bytes; offset += MIB, block++) {
    const piece = pool[(block * 7) % pool.length]!.subarray(0, Math.min(MIB, bytes - offset));
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await done;
  return hash.digest('hex');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await runCliRoundTrip(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench cli failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
