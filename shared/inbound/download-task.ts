/** A download-queue message: collect one message from one mailbox. */
export interface DownloadTask {
  readonly type: 'download';
  readonly mailboxId: string;
  readonly messageId: string;
}

export class UnreadableDownloadTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnreadableDownloadTaskError';
  }
}

export function downloadTaskBody(mailboxId: string, messageId: string): string {
  const task: DownloadTask = { type: 'download', mailboxId, messageId };
  return JSON.stringify(task);
}

export function parseDownloadTask(body: string): DownloadTask {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UnreadableDownloadTaskError('download task is not JSON');
  }
  const task = parsed as Partial<DownloadTask>;
  if (
    task.type !== 'download' ||
    typeof task.mailboxId !== 'string' ||
    typeof task.messageId !== 'string' ||
    !/^[A-Za-z0-9_-]{1,100}$/.test(task.messageId)
  ) {
    throw new UnreadableDownloadTaskError('download task lacks a valid mailboxId and messageId');
  }
  return task as DownloadTask;
}
