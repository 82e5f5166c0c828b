/**
 * The inbox `continue_from` token: opaque to clients (real MESH uses base64 JSON of DynamoDB keys), here base64url
 * JSON of the mailbox and the inbox position of the last message already listed.
 */

export interface InboxCursor {
  mailbox: string;
  /** Continue after the message with this inbox sequence number. */
  afterSeq: number;
}

interface TokenJson {
  v: 1;
  pk: string;
  after: number;
}

export function encodeContinueFrom(cursor: InboxCursor): string {
  const json: TokenJson = { v: 1, pk: `MB#${cursor.mailbox}`, after: cursor.afterSeq };
  return Buffer.from(JSON.stringify(json), 'utf8').toString('base64url');
}

/** The cursor in a token, or undefined when the token is not one of ours or belongs to another mailbox. */
export function decodeContinueFrom(token: string, mailbox: string): InboxCursor | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(token)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { v, pk, after } = json as Partial<TokenJson>;
  if (v !== 1 || pk !== `MB#${mailbox}` || !Number.isSafeInteger(after) || (after as number) < 0)
    return undefined;
  return { mailbox, afterSeq: after as number };
}
