// The npm package's `nhs-mesh-pipeline/events` entry: each event's type and zod schema, and those of its CloudEvents
// envelope (the JSON Schema files are `nhs-mesh-pipeline/schemas/*.schema.json`), the contract check, the reader of a
// received event in either format, and the helper that drops repeated events.
export { InboundEventV1Schema, type InboundEventV1 } from './inbound.js';
export { OutboundStatusEventV1Schema, type OutboundStatusEventV1 } from './outbound-status.js';
export {
  CLOUDEVENT_TYPES,
  CLOUDEVENTS_SPEC_VERSION,
  InboundCloudEventV1Schema,
  OutboundStatusCloudEventV1Schema,
  type CloudEventEnvelope,
  type InboundCloudEventV1,
  type OutboundStatusCloudEventV1,
  type PipelineEventV1,
} from './cloudevents.js';
export {
  checkEventContract,
  EVENT_CONTRACTS,
  EventContractError,
  eventJsonSchemas,
  readPipelineEvent,
  type EventOfSchema,
  type EventSchemaName,
} from './contracts.js';
export { dropRepeatedEvents, type DropRepeatsOptions, type PipelineEvent } from './consumer.js';
