/** Reading request inputs the way the MESH handlers need them. */
import type { IncomingMessage } from 'node:http';

/** A header's value; the first one if repeated. Names are lowercase. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A header's value trimmed, undefined when absent or blank. */
export function headerText(req: IncomingMessage, name: string): string | undefined {
  const value = header(req, name)?.trim();
  return value ? value : undefined;
}

/** The declared body length, when the client sent Content-Length. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = header(req, 'content-length');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Reads a small JSON body (admin requests). */
export async function readJson(req: IncomingMessage, limit = 1_000_000): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const piece of req.iterator({ destroyOnReturn: false })) {
    const data = piece as Buffer;
    size += data.length;
    if (size > limit) throw new SyntaxError(`JSON body over ${limit} bytes`);
    parts.push(data);
  }
  const text = Buffer.concat(parts).toString('utf8');
  return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
}
