/** The local MESH API v2 server: a faithful, stricter-than-sandbox stand-in for NHS MESH in tests and local runs. */
export { startMeshServer, type RunningMeshServer } from './server.js';
export {
  loadMeshServerConfig,
  parseMeshServerConfig,
  type LocalMailbox,
  type LocalWorkflow,
  type MeshServerConfigFile,
  type MeshServerOptions,
  type MeshServerTlsOptions,
} from './config.js';
export type {
  AdminInjectInput,
  AdminMessageFilter,
  AdminMessageView,
  AdminReportInput,
  MeshServerAdmin,
} from './admin.js';
export type { AdminMailboxInput, AdminMailboxView } from './admin-mailboxes.js';
export type { AdminSeedInput, AdminSeedResult } from './admin-seed.js';
export type { InboxListing } from './inbox-listings.js';
export type { FaultAction, FaultEndpoint, FaultRule, FaultRuleState } from './faults.js';
export type { MeshServerStats, ServerCounters, MailboxStats } from './stats.js';
export type { MessageStatus, MessageType } from './message.js';
export type { MeshServerLogLine, RequestLogLine, ErrorLogLine } from './log.js';
export { MeshServerConfigError, FaultRuleError, AdminRequestError } from './errors.js';
