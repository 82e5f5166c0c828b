import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** A small seeded generator (mulberry32): the same seed gives the same sequence of decisions. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic pseudo-random bytes for a file (AES-CTR keystream keyed by seed and index): fast enough for
 * hundreds of megabytes, streamed, and reproducible from the seed.
 */
export function fileBytes(seed: number, index: number, size: number): Readable {
  const key = createHash('sha256').update(`chaos:${seed}:${index}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const block = Buffer.alloc(1024 * 1024);
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(block.length, left);
      left -= n;
      this.push(cipher.update(block.subarray(0, n)));
    },
  });
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of stream) hash.update(piece as Buffer);
  return hash.digest('hex');
}
