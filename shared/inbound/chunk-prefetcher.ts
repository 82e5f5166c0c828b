import { PassThrough, pipeline, type Readable } from 'node:stream';
import type { DownloadedChunk } from '../mesh/index.js';

/** Fetches one chunk of the message; `signal` aborts it (the invocation's deadline, or a cancellation). */
export type ChunkFetch = (chunk: number, signal: AbortSignal) => Promise<DownloadedChunk>;

export interface ChunkPrefetchOptions {
  /**
   * Chunk requests open at once, the one being read included (DOWNLOAD_CHUNK_CONCURRENCY). 1 fetches each chunk
   * only when the one before it has been read, as downloads always did.
   */
  readonly concurrency: number;
  /**
   * Decoded bytes held for each chunk fetched ahead of the one being read. Once they are held, that chunk's
   * connection simply stops being read (TCP back-pressure) until its turn comes.
   */
  readonly readAheadBytes: number;
  /** Aborts every fetch: the invocation's deadline. */
  readonly signal: AbortSignal;
}

/** A chunk handed over in order, with when its fetch began (what it cost, waiting included). */
export interface PrefetchedChunk extends DownloadedChunk {
  readonly fetchStartedAt: number;
}

/** Thrown into a fetch whose chunk is no longer wanted; nobody sees it. */
class FetchCancelled extends Error {
  constructor() {
    super('chunk fetch cancelled');
    this.name = 'FetchCancelled';
  }
}

interface OpenFetch {
  readonly controller: AbortController;
  readonly startedAt: number;
  readonly result: Promise<DownloadedChunk>;
  /** The chunk's body once its headers have come, to destroy if it is no longer wanted. */
  body?: Readable;
}

/**
 * Hands a message's chunks over strictly in order while fetching up to `concurrency` of them at once: when chunk n
 * is taken, chunks n+1 .. n+concurrency-1 are already on their way, each reading up to `readAheadBytes` of its
 * decoded body into memory. So memory is bounded by the concurrency, never by the message or its chunk sizes, and
 * the reader still sees the message's bytes in order: S3 parts are cut where they always were, the streamed SHA-256
 * still works, and a checkpoint still names one position in the message.
 *
 * Chunks are fetched ahead rather than written to S3 wherever they land because where a chunk's bytes fall in the
 * message is not known until every chunk before it is decoded (gzip chunks decode to sizes nobody announces), and
 * S3 parts must all be 5 MiB or more but the last, which MESH's chunks need not be.
 *
 * A fetch that fails cancels the fetches after it (their bytes could not be used) but not those before it, whose
 * parts can still be stored and checkpointed; its error is thrown when its chunk is taken. `cancel()` aborts all.
 * Every promise is handled where it is made, so nothing surfaces as an unhandled rejection.
 */
export class ChunkPrefetcher {
  private readonly open = new Map<number, OpenFetch>();
  /** The next chunk not yet asked for. */
  private nextToFetch: number;
  /** Chunks after the first that failed are not fetched. */
  private stopAfter = Number.POSITIVE_INFINITY;
  private cancelled = false;

  constructor(
    private readonly fetch: ChunkFetch,
    firstChunk: number,
    private lastChunk: number,
    private readonly options: ChunkPrefetchOptions,
  ) {
    this.nextToFetch = firstChunk;
  }

  /** The message turned out to have more chunks than first thought (chunk 1 named more than its metadata did). */
  extendTo(lastChunk: number): void {
    this.lastChunk = Math.max(this.lastChunk, lastChunk);
  }

  /**
   * Chunk `chunk`, which must be the one after the last taken, once its headers have come. The caller reads its
   * body to the end (or destroys it) before taking the next: until then it counts as one of the open requests.
   */
  async take(chunk: number): Promise<PrefetchedChunk> {
    if (this.cancelled) throw new FetchCancelled();
    this.fillWindow(chunk);
    const entry = this.open.get(chunk);
    if (!entry) throw new Error(`chunk ${chunk} was taken out of order`);
    this.open.delete(chunk);
    const downloaded = await entry.result;
    return { ...downloaded, fetchStartedAt: entry.startedAt };
  }

  /** Aborts every fetch not yet taken and drops what they read ahead. */
  cancel(): void {
    this.cancelled = true;
    for (const chunk of [...this.open.keys()]) this.drop(chunk);
  }

  /** Starts fetches up to `reading + concurrency - 1`: with the chunk being read, `concurrency` requests open. */
  private fillWindow(reading: number): void {
    const last = Math.min(this.lastChunk, this.stopAfter, reading + this.options.concurrency - 1);
    this.nextToFetch = Math.max(this.nextToFetch, reading);
    for (; this.nextToFetch <= last; this.nextToFetch++) this.start(this.nextToFetch);
  }

  private start(chunk: number): void {
    const controller = new AbortController();
    const signal = AbortSignal.any([this.options.signal, controller.signal]);
    const entry: OpenFetch = {
      controller,
      startedAt: Date.now(),
      result: this.fetch(chunk, signal).then(
        (downloaded) => {
          if (controller.signal.aborted) {
            downloaded.body.destroy();
            throw new FetchCancelled();
          }
          entry.body = this.readAhead(chunk, downloaded.body);
          return { ...downloaded, body: entry.body };
        },
        (error: unknown) => {
          // A fetch aborted because it is no longer wanted is not a failure of the message.
          if (!controller.signal.aborted) this.failed(chunk);
          throw error;
        },
      ),
    };
    // Handled here so that a fetch nobody takes (cancelled, or after a failure) is not an unhandled rejection; a
    // fetch that is taken still rethrows to whoever takes it.
    entry.result.catch(() => undefined);
    this.open.set(chunk, entry);
  }

  /**
   * With one request at a time nothing is ahead, so the body is read as it comes. Otherwise it flows into a
   * buffer of `readAheadBytes`, which stops reading the connection when full; an error of the body (a reset, bad
   * gzip, a decompression bomb) reaches the reader through it unchanged.
   */
  private readAhead(chunk: number, body: Readable): Readable {
    if (this.options.concurrency === 1) return body;
    const buffer = new PassThrough({ writableHighWaterMark: this.options.readAheadBytes });
    pipeline(body, buffer, (error) => {
      if (error) this.failed(chunk);
    });
    return buffer;
  }

  private failed(chunk: number): void {
    if (chunk >= this.stopAfter) return;
    this.stopAfter = chunk;
    for (const later of [...this.open.keys()]) if (later > chunk) this.drop(later);
  }

  private drop(chunk: number): void {
    const entry = this.open.get(chunk);
    if (!entry) return;
    this.open.delete(chunk);
    entry.controller.abort(new FetchCancelled());
    entry.body?.destroy();
  }
}
