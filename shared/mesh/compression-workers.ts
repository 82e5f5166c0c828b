import { MessageChannel, Worker } from 'node:worker_threads';
import type { SegmentCompressor, SegmentOptions } from './compression.js';

/**
 * The worker's whole program: DEFLATE each segment it is sent in one call (ending on a byte boundary, or with the
 * final block for a chunk's last segment), and hand the result back without a copy, with the segment's own memory
 * when it was lent, so the sender reads a later segment into it. zlib writes into one output buffer big enough for
 * the worst case; only the pages it fills take memory, and the buffer moves to the sender as it is.
 *
 * Inline (an eval worker, CommonJS) rather than a file of its own: the functions ship as single-file esbuild
 * bundles and the CLI as a cached bundle, where a separate worker file would need a build step of its own.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { constants, deflateRawSync } = require('node:zlib');
parentPort.on('message', ({ input, offset, length, level, dictionary, last }) => {
  const lent = input instanceof ArrayBuffer;
  let out;
  try {
    const data = lent ? new Uint8Array(input, offset, length) : input;
    out = deflateRawSync(data, {
      level,
      ...(dictionary ? { dictionary } : {}),
      finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      // DEFLATE's worst case adds 5 bytes a 16 KiB block; the margin covers that with room to spare.
      chunkSize: data.length + (data.length >> 10) + 65536,
    });
  } catch (error) {
    const message = String((error && error.message) || error);
    parentPort.postMessage({ error: message, input: lent ? input : undefined }, lent ? [input] : []);
    return;
  }
  parentPort.postMessage(
    { out: out.buffer, outOffset: out.byteOffset, outLength: out.length, input: lent ? input : undefined },
    lent ? [out.buffer, input] : [out.buffer],
  );
});
`;

interface Job {
  readonly data: Buffer;
  readonly options: SegmentOptions;
  readonly giveBack?: (input: Buffer) => void;
  readonly resolve: (deflated: Buffer) => void;
  readonly reject: (error: Error) => void;
}

interface WorkerAnswer {
  readonly out?: ArrayBuffer;
  readonly outOffset?: number;
  readonly outLength?: number;
  readonly input?: ArrayBuffer;
  readonly error?: string;
}

interface PoolWorker {
  readonly thread: Worker;
  job?: Job;
}

/**
 * Compresses segments on worker threads, one segment per thread at a time, up to `size` at once; more wait their
 * turn in order.
 *
 * Threads chosen over zlib's async API (which runs on libuv's threadpool) by measurement here: 200 MiB of CSV-like
 * data in 20 MiB pieces at level 1, two at once, took 1.2-1.4 s and 2.3-2.5 s of CPU on worker threads against
 * 2.0 s and 2.7-2.8 s on the threadpool (one at a time: 2.2 s against 2.6-2.7 s), with peak RSS 147-152 MB against
 * 265 MB. zlib's async API returns to the event loop for every 16 KiB of output, and its threadpool is shared: 4
 * threads (UV_THREADPOOL_SIZE, which Lambda would need raised before any use) that also serve file reads and DNS
 * lookups, which would queue behind seconds of compression.
 *
 * No pool library: the usual ones (piscina, tinypool) load their worker from a file, which the bundles lack.
 *
 * Idle threads are unreferenced, so they never keep a process alive, and are kept for the next segment or the next
 * invocation of a warm Lambda. A thread that dies fails only its own segment; the next one gets a new thread.
 */
export class CompressionWorkerPool implements SegmentCompressor {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  /** The memory of results handed out and not yet released: only these may be freed by `release`. */
  private readonly results = new WeakSet<ArrayBuffer>();

  constructor(private size: number) {
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new RangeError(`a pool needs 1 or more workers, not ${size}`);
    }
  }

  /** Threads running now, busy or idle: never more than the pool's size. */
  get threads(): number {
    return this.workers.length;
  }

  /** Lets the pool grow to `size` threads (it never shrinks: idle threads cost a little memory and no CPU). */
  ensureSize(size: number): void {
    this.size = Math.max(this.size, size);
  }

  prestart(workers: number): void {
    this.ensureSize(workers);
    while (this.workers.length < Math.min(workers, this.size)) this.spawn();
  }

  deflate(data: Buffer, options: SegmentOptions, giveBack?: (input: Buffer) => void): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ data, options, giveBack, resolve, reject });
      this.dispatch();
    });
  }

  release(deflated: Buffer): void {
    const memory = deflated.buffer as ArrayBuffer;
    if (this.results.delete(memory)) freeNow(memory);
  }

  /** Ends every thread; segments under way fail. For tests and tools that want a clean exit at once. */
  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    const stopped = new Error('the compression pool was closed');
    for (const job of [...workers.flatMap((w) => (w.job ? [w.job] : [])), ...this.queue.splice(0)]) {
      job.reject(stopped);
    }
    await Promise.all(workers.map((w) => w.thread.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle =
        this.workers.find((w) => !w.job) ?? (this.workers.length < this.size ? this.spawn() : undefined);
      if (!idle) return;
      const job = this.queue.shift()!;
      idle.job = job;
      idle.thread.ref();
      const { data, options } = job;
      const settings = { level: options.level, dictionary: options.dictionary, last: options.last };
      if (job.giveBack) {
        // Lent: the whole ArrayBuffer moves to the thread and comes back with the answer.
        const input = data.buffer as ArrayBuffer;
        idle.thread.postMessage({ input, offset: data.byteOffset, length: data.length, ...settings }, [
          input,
        ]);
      } else {
        idle.thread.postMessage({ input: data, ...settings });
      }
    }
  }

  private spawn(): PoolWorker {
    const worker: PoolWorker = { thread: new Worker(WORKER_SOURCE, { eval: true }) };
    worker.thread.on('message', (answer: WorkerAnswer) => {
      const job = worker.job;
      worker.job = undefined;
      worker.thread.unref();
      if (job) {
        if (answer.input) job.giveBack?.(Buffer.from(answer.input));
        if (answer.out) {
          this.results.add(answer.out);
          job.resolve(Buffer.from(answer.out, answer.outOffset, answer.outLength));
        } else {
          job.reject(new Error(`compression failed: ${answer.error ?? 'no reason given'}`));
        }
      }
      this.dispatch();
    });
    const lose = (error: Error) => {
      const at = this.workers.indexOf(worker);
      if (at < 0) return;
      this.workers.splice(at, 1);
      const job = worker.job;
      worker.job = undefined;
      job?.reject(error);
      this.dispatch();
    };
    worker.thread.on('error', (error) => lose(error));
    worker.thread.on('exit', (code) => lose(new Error(`a compression thread stopped (exit code ${code})`)));
    // Only after the listeners: adding a 'message' listener references the thread's port again.
    worker.thread.unref();
    this.workers.push(worker);
    return worker;
  }
}

let shared: CompressionWorkerPool | undefined;

/** The process's pool, grown to at least `workers` threads: one pool however many sends run. */
export function sharedCompressionWorkers(workers: number): CompressionWorkerPool {
  shared ??= new CompressionWorkerPool(workers);
  shared.ensureSize(workers);
  return shared;
}

/**
 * Frees an ArrayBuffer's memory now, not when the garbage collector next gets to it, which for large buffers that
 * die young is late: V8 counts them as external memory and collects only after tens of MB more have piled up.
 * Moving the ArrayBuffer into a message that is never received hands its memory to that message, freed with it as
 * the channel closes. Only for memory this pool made and handed out once: every view of it becomes empty.
 */
function freeNow(memory: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [memory]);
  port1.close();
  port2.close();
}
