import { Annotations, Resource, Stack, Token } from 'aws-cdk-lib';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { ENV, eventDeliveryEnvironment, FUNCTIONS, publishesEvents } from '../../shared/wiring/pipeline.js';
import { DEFAULTS, type MeshPipelineEventsProps } from './props.js';
import type { FunctionFleet } from './runtime/function-fleet.js';
import { putEventsStatement } from './runtime/permissions.js';
import type { MeshPipelineStorage } from './storage/pipeline-storage.js';

/** How the deployment's events leave beyond the queues' plain format, when its props ask for more. */
export interface PipelineEventDelivery {
  /** The `source` of the CloudEvents envelope and of the bus's entries. */
  readonly source: string;
  /** The bus that gets every event besides the queues. */
  readonly eventBus?: IEventBus;
}

export interface EventDeliveryProps {
  readonly events?: MeshPipelineEventsProps;
  readonly fleet: FunctionFleet;
  readonly storage: MeshPipelineStorage;
}

/**
 * Gives the functions that publish events (publishesEvents: the send, download, tracker and relay functions) the
 * event delivery settings, and, with a bus, creates it (or takes the one brought) and lets exactly those functions
 * put events on exactly that bus. Undefined when the props ask for plain events on the queues only, which changes
 * nothing in the template.
 */
export function configureEventDelivery(
  scope: Construct,
  props: EventDeliveryProps,
): PipelineEventDelivery | undefined {
  const { events } = props;
  const cloudEvents = (events?.format ?? DEFAULTS.eventFormat) === 'cloudevents';
  const eventBus = events?.eventBus === true ? createEventBus(props.storage) : events?.eventBus || undefined;
  if (!cloudEvents && !eventBus) return undefined;

  const source = events?.source ?? defaultEventSource(scope);
  // The ARN, not the name: PutEvents takes either, and only an ARN reaches a bus of another account.
  const environment = eventDeliveryEnvironment({ source, eventBus: eventBus?.eventBusArn });
  if (cloudEvents) environment[ENV.cloudEventsEnvelope] = 'true';
  // The fleet builds each function's environment from the wiring (functionEnvironment) without the deployment's
  // event settings, so they are added here, from the same wiring helper, to the same functions it would give them.
  for (const f of props.fleet.functions.values()) {
    if (!publishesEvents(FUNCTIONS[f.name])) continue;
    for (const [name, value] of Object.entries(environment)) f.fn.addEnvironment(name, value);
    if (eventBus) f.policy.addStatements(putEventsStatement(eventBus.eventBusArn));
  }
  return { source, eventBus };
}

/**
 * The pipeline's own bus, beside the queues in the stateful scope (the rules consumers attach to it outlive a
 * redeployment of the functions), encrypted with the pipeline's key like the queues: events name files and
 * recipients. No bus policy: only this account's principals that are granted events:PutEvents can put events on it.
 */
function createEventBus(storage: MeshPipelineStorage): EventBus {
  const bus = new EventBus(storage, 'EventBus', {
    description: 'Inbound and outbound-status events of the NHS MESH pipeline (also on its FIFO queues)',
    kmsKey: storage.key,
  });
  if (!Resource.isOwnedResource(storage.key)) {
    Annotations.of(bus).addWarningV2(
      'nhs-mesh-pipeline:importedKeyEventBus',
      'The KMS key is imported, so the pipeline cannot let EventBridge use it for the event bus: allow the ' +
        'events.amazonaws.com principal kms:GenerateDataKey, kms:Decrypt and kms:DescribeKey for this bus in the ' +
        "key's policy yourself (README: events on an EventBridge bus).",
    );
  }
  return bus;
}

/** `nhs-mesh-pipeline/{stack name}`: names the deployment, and is a valid CloudEvents source and EventBridge source. */
function defaultEventSource(scope: Construct): string {
  return `nhs-mesh-pipeline/${Stack.of(scope).stackName}`;
}

/** A URI reference's characters (RFC 3986), at most 256 of them (EventBridge's limit on a source). */
const EVENT_SOURCE = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]{1,256}$/;

/** Every problem with the `events` props, in the order of the props. */
export function checkEventsProps(events: MeshPipelineEventsProps | undefined, problems: string[]): void {
  if (events === undefined) return;
  if (events.format !== undefined && events.format !== 'plain' && events.format !== 'cloudevents') {
    problems.push(`events.format "${String(events.format)}" is unknown: use plain or cloudevents`);
  }
  const { source } = events;
  if (source !== undefined && !Token.isUnresolved(source)) {
    if (!EVENT_SOURCE.test(source)) {
      problems.push(
        `events.source "${source}" is not a URI reference of 1 to 256 characters ` +
          "(letters, digits and -._~:/?#[]@!$&'()*+,;=% only)",
      );
    }
    if (source.startsWith('aws.')) {
      problems.push(`events.source "${source}" starts with aws., which EventBridge keeps for AWS services`);
    }
  }
  if (source !== undefined && events.format !== 'cloudevents' && !events.eventBus) {
    problems.push(
      'events.source is used only with format cloudevents or an eventBus: set one, or leave source out',
    );
  }
  const bus: unknown = events.eventBus;
  const isBus = typeof bus === 'object' && bus !== null && 'eventBusArn' in bus;
  if (bus !== undefined && typeof bus !== 'boolean' && !isBus) {
    problems.push(
      'events.eventBus must be true (a new bus), false, or an event bus (EventBus.fromEventBusArn)',
    );
  }
}
