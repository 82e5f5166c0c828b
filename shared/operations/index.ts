/**
 * Operator use cases, shared by the `mesh` CLI and (later) a web console: mailboxes in the registry and their
 * credentials, finding transfers and inbound messages, and redriving stalled or poisoned work. Each takes small
 * ports (ports.ts); awsOperations builds them on the SDK for one deployment.
 */
export { awsOperations, type Operations, type OperationsClients } from './aws.js';
export { mailboxOfTask, redrive, redriveDeadLetters, type DeadLetterRedrive } from './dead-letters.js';
export { findMessages, inboundKeyParts, type FoundMessages } from './find-message.js';
export { findOneTransfer, findTransfers, NotFoundError, type FoundTransfers } from './find-transfer.js';
export {
  addMailbox,
  credentialProblems,
  describeMailbox,
  InvalidCredentialsError,
  listMailboxes,
  MailboxExistsError,
  removeMailbox,
  setMailboxCredentials,
  setMailboxPaused,
  type CredentialsStatus,
  type MailboxView,
  type StoredCredentials,
} from './mailboxes.js';
export type { PipelineLocation, WorkQueueLocation, WorkQueueName } from './ports.js';
export { redriveDlq, redriveMessage, redriveTransfer, RedriveRefusedError } from './redrive.js';
