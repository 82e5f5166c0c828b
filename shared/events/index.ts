// The npm package's `nhs-mesh-pipeline/events` entry: each event's type and zod schema (the JSON Schema files are
// `nhs-mesh-pipeline/schemas/*.schema.json`), the contract check, and the helper that drops repeated events.
export { InboundEventV1Schema, type InboundEventV1 } from './inbound.js';
export { OutboundStatusEventV1Schema, type OutboundStatusEventV1 } from './outbound-status.js';
export {
  checkEventContract,
  EVENT_CONTRACTS,
  EventContractError,
  eventJsonSchemas,
  type EventSchemaName,
} from './contracts.js';
export { dropRepeatedEvents, type DropRepeatsOptions, type PipelineEvent } from './consumer.js';
