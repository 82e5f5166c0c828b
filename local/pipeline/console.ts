import { senderFromKey } from '../../shared/outbound/addressing.js';
import type { PipelineEvent } from './event-feed.js';

const useColour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColour ? `\u001b[${code}m${text}\u001b[0m` : text);
export const dim = paint(2);
export const green = paint(32);
export const red = paint(31);
export const bold = paint(1);

export function stamp(): string {
  return dim(new Date().toISOString().slice(11, 19));
}

/** One readable line per pipeline event. */
export function describeEvent(item: PipelineEvent): string {
  if (item.kind === 'status') {
    const e = item.event;
    const status = ['rejected', 'failed', 'undeliverable'].includes(e.status)
      ? red(e.status)
      : green(e.status);
    const route = `${e.mailbox ?? senderFromKey(e.key) ?? '?'} → ${e.recipient ?? '…'}`;
    const detail = [
      e.messageId && `message ${e.messageId}`,
      e.totalChunks && `${e.chunksSent}/${e.totalChunks} chunks`,
      e.error && red(`${e.error.code ? `code ${e.error.code}: ` : ''}${e.error.text}`),
    ]
      .filter(Boolean)
      .join(', ');
    return `${stamp()} outbound  ${route}  ${e.key}  ${status}${detail ? `  (${detail})` : ''}`;
  }
  const e = item.event;
  if (e.messageType === 'REPORT') {
    return `${stamp()} inbound   ${e.mailbox}  ${red('report')} code ${e.report?.code ?? '?'}: ${e.report?.description ?? ''}${
      e.report?.linkedTransferId ? ` (transfer ${e.report.linkedTransferId})` : ''
    }`;
  }
  const checksum = e.checksumVerified === false ? red('  CHECKSUM MISMATCH') : '';
  return `${stamp()} inbound   ${e.sender ?? '?'} → ${e.mailbox}  ${e.fileName}  ${green('stored')}  s3://${e.bucket}/${e.key} (${e.size} bytes, sha256 ${e.sha256?.slice(0, 12)}…)${checksum}`;
}
