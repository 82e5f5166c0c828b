/** The structured lines the server hands to the `log` option. Never carries secrets, tokens or bodies. */

export interface RequestLogLine {
  readonly event: 'request';
  readonly method: string;
  readonly endpoint: string;
  readonly status: number;
  readonly ms: number;
  readonly mailbox?: string;
  readonly message_id?: string;
  readonly chunk?: number;
  /** The action of a fault rule that fired on this request. */
  readonly fault?: string;
  /** Why the request failed, as the error body's msg says. */
  readonly reason?: string;
}

export interface ErrorLogLine {
  readonly event: 'error';
  readonly endpoint: string;
  readonly error: string;
  readonly message: string;
}

export type MeshServerLogLine = RequestLogLine | ErrorLogLine;
