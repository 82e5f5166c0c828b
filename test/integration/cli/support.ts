/** Runs the real `mesh` CLI as a child process against a local MESH server, as a user's shell would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, SHARED_SECRET, type MeshHarness } from '../../harness/mesh.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'cli', 'bin.mjs');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export type CliEnv = Record<string, string | undefined>;

/** Only what a child needs from this process: no MESH_* settings leak in from the developer's shell. */
function baseEnv(): CliEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT'];
  return Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
}

export function spawnCli(args: readonly string[], env: CliEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `mesh <args>` to completion; kills it after `timeoutMs`. */
export function runCli(args: readonly string[], env: CliEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return collect(spawnCli(args, env), timeoutMs);
}

export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The single JSON document a `--json` run prints; fails unless stdout is exactly one line of JSON. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  if (lines.length !== 1) {
    throw new Error(`expected one line of JSON, got ${lines.length}: ${result.stdout}\n${result.stderr}`);
  }
  return JSON.parse(lines[0]!) as T;
}

/** Writes the harness's PEMs to `dir` and returns MESH_* settings for `mailbox`. */
export async function meshEnv(mesh: MeshHarness, dir: string, mailbox: string): Promise<CliEnv> {
  await mkdir(dir, { recursive: true });
  const ca = join(dir, 'ca.pem');
  const cert = join(dir, `${mailbox}.pem`);
  const key = join(dir, `${mailbox}.key.pem`);
  await writeFile(ca, mesh.pki.ca.cert);
  await writeFile(cert, mesh.pki.clients[mailbox]!.cert);
  await writeFile(key, mesh.pki.clients[mailbox]!.key, { mode: 0o600 });
  return {
    MESH_URL: mesh.url,
    MESH_MAILBOX: mailbox,
    MESH_PASSWORD: PASSWORD,
    MESH_SHARED_KEY: SHARED_SECRET,
    MESH_CLIENT_CERT: cert,
    MESH_CLIENT_KEY: key,
    MESH_CA_CERT: ca,
  };
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
