/**
 * The local MESH server in a process of its own, so that it has a CPU to itself as it would in a real deployment
 * and does not take turns with the S3 emulator on one event loop. The parent sends the options over IPC and gets
 * the URL back; the server stops when the parent disconnects.
 *
 * The IPC channel also carries what a benchmark reads in process when the server runs beside it: the server's
 * request log (`onLog`, sent in batches) and its admin operations (`admin`, the same `MeshServerAdmin` the
 * in-process server has, without the HTTPS round trip and client certificate the admin endpoints need).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processCpuMs } from '../../local/aws/process.js';
import {
  startMeshServer,
  type MeshServerAdmin,
  type MeshServerLogLine,
  type MeshServerOptions,
} from '../../local/mesh-server/index.js';
import { reportStartFailure, serveWhenForked } from '../../local/runtime/forked-service.js';

type Options = Omit<MeshServerOptions, 'now' | 'log'>;

export interface MeshServerProcessOptions {
  /**
   * Receives the server's log lines, a batch at a time (at most LOG_BATCH_MS late), each with the time the server
   * logged it (epoch ms, this machine's clock): a bench's request counts and timings.
   */
  readonly onLog?: (line: MeshServerLogLine, atMs: number) => void;
}

/** What the server process sends its parent. */
type FromServer =
  | { type: 'listening'; url: string }
  | { type: 'error'; message: string }
  | { type: 'log'; lines: LoggedLine[] }
  | { type: 'admin'; id: number; result?: unknown; error?: string };

interface LoggedLine {
  line: MeshServerLogLine;
  atMs: number;
}

/** What the parent sends, after the options. */
interface AdminCall {
  type: 'admin';
  id: number;
  method: keyof MeshServerAdmin;
  args: unknown[];
}

interface Start {
  type: 'start';
  options: Options;
  forwardLog: boolean;
}

export interface MeshServerProcess {
  readonly url: string;
  /** The server's admin operations, run in its process (arguments and results cross by structured clone). */
  readonly admin: MeshServerAdmin;
  /** CPU time (user + system) the server process has used so far, in ms; 0 where /proc is not available. */
  cpuMs(): number;
  close(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);
/** The child's argument (local/aws/process.ts, imported here, forks itself with another). */
const SERVE_FLAG = '--serve-mesh';
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Log lines are sent in batches: one IPC message per request would cost the server more than the request. */
const LOG_BATCH_MS = 50;

export function startMeshServerProcess(
  options: Options,
  processOptions: MeshServerProcessOptions = {},
): Promise<MeshServerProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, [SERVE_FLAG], {
      cwd: PROJECT_ROOT,
      // BENCH_MESH_FLAGS: extra node flags for the server, e.g. to profile it.
      execArgv: ['--import', 'tsx', ...(process.env.BENCH_MESH_FLAGS ?? '').split(/\s+/).filter(Boolean)],
      stdio: ['ignore', process.env.BENCH_MESH_FLAGS ? 'inherit' : 'ignore', 'inherit', 'ipc'],
      // Structured clone: seeded bodies (Uint8Array) and dates cross as they are.
      serialization: 'advanced',
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
    let nextId = 0;
    child.once('error', reject);
    child.once('exit', (code) => {
      const error = new Error(`the MESH server process exited with code ${code}`);
      for (const call of pending.values()) call.reject(error);
      pending.clear();
      reject(error);
    });
    const admin = new Proxy({} as MeshServerAdmin, {
      get: (_target, method) => {
        return (...args: unknown[]) =>
          new Promise((resolveCall, rejectCall) => {
            if (!child.connected) {
              rejectCall(new Error('the MESH server process has stopped'));
              return;
            }
            const id = nextId++;
            pending.set(id, { resolve: resolveCall, reject: rejectCall });
            child.send({ type: 'admin', id, method, args } as AdminCall);
          });
      },
    });
    child.on('message', (message: FromServer) => {
      switch (message.type) {
        case 'listening':
          resolve({
            url: message.url,
            admin,
            cpuMs: () => processCpuMs(child.pid!),
            close: async () => {
              if (child.connected) child.disconnect();
              await exited;
            },
          });
          return;
        case 'error':
          reject(new Error(`the MESH server did not start: ${message.message}`));
          return;
        case 'log':
          for (const { line, atMs } of message.lines) processOptions.onLog?.(line, atMs);
          return;
        case 'admin': {
          const call = pending.get(message.id);
          pending.delete(message.id);
          if (message.error !== undefined) call?.reject(new Error(message.error));
          else call?.resolve(message.result);
          return;
        }
      }
    });
    child.send({ type: 'start', options, forwardLog: processOptions.onLog !== undefined } satisfies Start);
  });
}

/** The server side: starts the server with the parent's options, then answers admin calls until disconnected. */
function serve(send: (message: FromServer) => void): void {
  let batch: LoggedLine[] = [];
  let flushing: NodeJS.Timeout | undefined;
  const flush = () => {
    flushing = undefined;
    if (batch.length === 0 || !process.connected) return;
    send({ type: 'log', lines: batch });
    batch = [];
  };
  const log = (line: MeshServerLogLine) => {
    batch.push({ line, atMs: Date.now() });
    flushing ??= setTimeout(flush, LOG_BATCH_MS);
  };
  process.once('message', (start: Start) => {
    startMeshServer({ ...start.options, log: start.forwardLog ? log : undefined }).then((server) => {
      process.on('message', (call: AdminCall) => {
        if (call.type !== 'admin') return;
        // Log lines the call's effects produced go first, so the parent has them when its call returns.
        const admin = server.admin as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
        Promise.resolve()
          .then(() => admin[call.method]!(...call.args))
          .then(
            (result) => {
              flush();
              send({ type: 'admin', id: call.id, result });
            },
            (error: unknown) => send({ type: 'admin', id: call.id, error: String(error) }),
          );
      });
      send({ type: 'listening', url: server.url });
      process.once('disconnect', () => {
        if (flushing) clearTimeout(flushing);
        void server.close().finally(() => process.exit(0));
      });
    }, reportStartFailure(send));
  });
}

serveWhenForked(SERVE_FLAG, serve);
