/**
 * The local MESH server in a process of its own, so that it has a CPU to itself as it would in a real deployment
 * and does not take turns with the S3 emulator on one event loop. The parent sends the options over IPC and gets
 * the URL back; the server stops when the parent disconnects.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startMeshServer, type MeshServerOptions } from '../../local/mesh-server/index.js';

type Options = Omit<MeshServerOptions, 'now' | 'log'>;
type Answer = { type: 'listening'; url: string } | { type: 'error'; message: string };

export interface MeshServerProcess {
  readonly url: string;
  /** CPU time (user + system) the server process has used so far, in ms; 0 where /proc is not available. */
  cpuMs(): number;
  close(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function startMeshServerProcess(options: Options): Promise<MeshServerProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['--serve'], {
      cwd: PROJECT_ROOT,
      // BENCH_MESH_FLAGS: extra node flags for the server, e.g. to profile it.
      execArgv: ['--import', 'tsx', ...(process.env.BENCH_MESH_FLAGS ?? '').split(/\s+/).filter(Boolean)],
      stdio: ['ignore', process.env.BENCH_MESH_FLAGS ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the MESH server process exited with code ${code}`)));
    child.once('message', (answer: Answer) => {
      if (answer.type === 'error') {
        reject(new Error(`the MESH server did not start: ${answer.message}`));
        return;
      }
      resolve({
        url: answer.url,
        cpuMs: () => processCpuMs(child.pid!),
        close: async () => {
          if (child.connected) child.disconnect();
          await exited;
        },
      });
    });
    child.send(options);
  });
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

if (process.argv[2] === '--serve' && process.send) {
  process.once('message', (options: Options) => {
    startMeshServer(options).then(
      (server) => {
        process.send!({ type: 'listening', url: server.url } satisfies Answer);
        process.once('disconnect', () => void server.close().finally(() => process.exit(0)));
      },
      (error: unknown) => {
        process.send!({ type: 'error', message: String(error) } satisfies Answer);
        process.disconnect();
      },
    );
  });
}
