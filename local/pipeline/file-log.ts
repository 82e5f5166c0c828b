import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Log } from '../../shared/observability/ports.js';

/**
 * Structured JSON log lines to a file (the functions' logs, which in Lambda go to CloudWatch). Errors are also
 * handed to `onError` so the console can show them.
 */
export function fileLog(
  path: string,
  onError?: (line: Record<string, unknown>) => void,
): Log & { close(): Promise<void> } {
  mkdirSync(dirname(path), { recursive: true });
  const out = createWriteStream(path, { flags: 'a' });
  const write =
    (level: string) =>
    (message: string, extra: Record<string, unknown> = {}) => {
      const line = { timestamp: new Date().toISOString(), level, message, ...extra };
      out.write(`${JSON.stringify(line)}\n`);
      if (level === 'ERROR') onError?.(line);
    };
  return {
    debug: write('DEBUG'),
    info: write('INFO'),
    warn: write('WARN'),
    error: write('ERROR'),
    close: () => new Promise((resolve) => out.end(resolve)),
  };
}
