import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request or response body of the AWS JSON 1.1 protocol (X-Amz-Target services: Secrets Manager, EventBridge). */
export type JsonObject = Record<string, unknown>;

/** The faults a body can raise, as the emulated service names them. */
export interface JsonBodyFaults {
  readonly tooLarge: () => Error;
  readonly notJson: () => Error;
  readonly notObject: () => Error;
}

/** Reads a request's JSON object body, refusing one over `maxBytes` before it is all held. An empty body is `{}`. */
export async function readJsonObject(
  req: IncomingMessage,
  maxBytes: number,
  faults: JsonBodyFaults,
): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) throw faults.tooLarge();
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw faults.notJson();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw faults.notObject();
  return Object.fromEntries(Object.entries(parsed));
}

/** Answers as an AWS JSON 1.1 service does: the body, a request id, and the error type for a fault. */
export function sendJson(res: ServerResponse, status: number, body: JsonObject, errorType?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  res.end(text);
}
