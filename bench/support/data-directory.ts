import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';

/**
 * Where the payloads go: BENCH_DATA_DIR when set, else /dev/shm when it has room for what the run will write, else
 * the temporary directory. Memory-backed storage keeps the VM's disk (and the kernel writing dirty pages back to
 * it half-way through a run) out of the figures: in production neither S3 nor MESH is on the function's disk.
 */
export async function dataDirectory(bytes: number): Promise<string> {
  if (process.env.BENCH_DATA_DIR) return process.env.BENCH_DATA_DIR;
  try {
    const { bavail, bsize } = await statfs('/dev/shm');
    if (bavail * bsize > bytes * 1.5) return '/dev/shm';
  } catch {
    // No /dev/shm here.
  }
  return tmpdir();
}
