import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleChild } from './bundle.js';
import type { ChildJob, ChildMessage, ChildResult } from './child-protocol.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Kept from a child's output, to show when it fails. */
const TAIL_BYTES = 8 * 1024;

export interface ForkOptions {
  readonly env?: Record<string, string>;
}

/** Extra node flags for every child, e.g. `--cpu-prof --cpu-prof-dir=.bench/prof` to profile the functions. */
const CHILD_FLAGS = (process.env.BENCH_CHILD_FLAGS ?? '').split(/\s+/).filter(Boolean);

let bundled: Promise<string> | undefined;

/**
 * Runs one job in a fresh Node process so that its peak RSS is its own (the AWS emulators stay in this process,
 * the MESH server has its own). The child runs from a bundle built as the functions are deployed (see bundle.ts),
 * with source maps on as in Lambda. Its own output (the functions' JSON logs and metrics) is kept aside and shown
 * only if it fails; with BENCH_TRACE set, all of it (and a trace of its requests) goes to stderr as it happens.
 */
export async function runInChild(job: ChildJob, options: ForkOptions = {}): Promise<ChildResult> {
  bundled ??= bundleChild();
  const entry = await bundled;
  return new Promise((resolve, reject) => {
    const child = fork(entry, [], {
      cwd: PROJECT_ROOT,
      execArgv: ['--enable-source-maps', ...CHILD_FLAGS],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(process.env.BENCH_TRACE ? { BENCH_TRACE: process.env.BENCH_TRACE } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    const keep = (data: Buffer) => {
      output = (output + data.toString('utf8')).slice(-TAIL_BYTES);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    // When tracing (see trace.ts), everything the child says is shown as it happens, on stderr.
    if (process.env.BENCH_TRACE) {
      child.stdout!.pipe(process.stderr);
      child.stderr!.pipe(process.stderr);
    }
    let answer: ChildMessage | undefined;
    child.on('message', (message: ChildMessage) => {
      answer = message;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (answer?.type === 'result') {
        resolve(answer.result);
        return;
      }
      const why = answer?.type === 'error' ? answer.message : `exited with ${signal ?? `code ${code}`}`;
      reject(new Error(`${describeJob(job)} failed: ${why}\n--- child output (tail) ---\n${output}`));
    });
    child.send(job);
  });
}

function describeJob(job: ChildJob): string {
  return job.kind === 'function' ? `the ${job.fn} function` : `the ${job.kind} job`;
}
