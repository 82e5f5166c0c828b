import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import { MeshPipeline } from '../../infra/constructs/mesh-pipeline.js';
import type { MeshPipelineProps } from '../../infra/constructs/props.js';
import { MeshPipelineConfigError } from '../../infra/constructs/validate.js';
import { applyNagChecks, nagPacks } from '../../infra/nag.js';
import { acknowledgeMeshPipeline } from '../../infra/nag-acknowledgements.js';
import { ENV, FUNCTIONS, publishesEvents, type FunctionName } from '../../shared/wiring/pipeline.js';
import { logicalId } from './app.js';
import { flatStatements, flatten, type Outputs } from './template-values.js';

const ENVIRONMENT = { account: '111111111111', region: 'eu-west-2' };
const BROUGHT_BUS_ARN = 'arn:aws:events:eu-west-2:222222222222:event-bus/central-events';
const PUBLISHERS = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) =>
  publishesEvents(FUNCTIONS[name]),
);

/** The pipeline split across a data and a functions stack (as the README's example app), with cdk-nag applied. */
type EventsProps = MeshPipelineProps['events'];

function synthesize(events: EventsProps | ((data: Stack) => EventsProps)) {
  const app = new App({ context: { '@aws-cdk/core:appMode': 'inmemory', 'aws:cdk:bundling-stacks': [] } });
  const data = new Stack(app, 'MeshData', { env: ENVIRONMENT });
  const functions = new Stack(app, 'MeshFunctions', { env: ENVIRONMENT });
  const pipeline = new MeshPipeline(functions, 'Mesh', {
    meshEnvironment: 'integration',
    secretPrefix: 'nhs-mesh-pipeline/test/',
    mailboxes: [{ id: 'X26ABC1' }],
    statefulScope: data,
    events: typeof events === 'function' ? events(data) : events,
  });
  acknowledgeMeshPipeline(pipeline);
  applyNagChecks(app);
  // In-memory mode: synthesis throws on any cdk-nag finding that is not acknowledged.
  app.synth();
  const outputs = Template.fromStack(data).toJSON().Outputs as Outputs;
  const fn = importsResolved(
    Template.fromStack(functions).toJSON(),
    outputs as Record<string, { Value: unknown; Export?: { Name: string } }>,
  ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const variables = (name: FunctionName) => {
    const resource = fn.Resources[logicalId(pipeline.fleet.get(name).fn)]!;
    const env = (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, flatten(v, outputs)]));
  };
  const statements = (name: FunctionName) =>
    flatStatements(
      (fn.Resources[logicalId(pipeline.fleet.get(name).policy)]!.Properties as { PolicyDocument: unknown })
        .PolicyDocument,
      outputs,
    );
  return { app, pipeline, data: Template.fromStack(data), variables, statements };
}

/** The template with each Fn::ImportValue replaced by the value the other stack exports under that name. */
function importsResolved(
  template: unknown,
  outputs: Record<string, { Value: unknown; Export?: { Name: string } }>,
): unknown {
  const exported = new Map(Object.values(outputs).map((o) => [o.Export?.Name, o.Value]));
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const node = value as Record<string, unknown>;
    if (typeof node['Fn::ImportValue'] === 'string') return exported.get(node['Fn::ImportValue']);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
  };
  return walk(template);
}

describe('events: CloudEvents envelope and an EventBridge bus', () => {
  const built = synthesize({ format: 'cloudevents', eventBus: true });

  test('the CloudEvents format and a new bus synthesize across two stacks with no unacknowledged cdk-nag finding', () => {
    const findings = nagPacks(built.app).flatMap((pack) => pack.validateScope(built.app).violations);
    assert.deepEqual(
      findings.map((f) => `${f.ruleName} ${f.violatingResources.map((r) => r.constructPath).join()}`),
      [],
    );
  });

  test("the new bus is in the stateful stack, encrypted with the pipeline's key, with no bus policy", () => {
    built.data.resourceCountIs('AWS::Events::EventBus', 1);
    const [bus] = Object.values(built.data.findResources('AWS::Events::EventBus'));
    const properties = bus!.Properties as Record<string, unknown>;
    assert.equal(flatten(properties.KmsKeyIdentifier), `<${logicalId(built.pipeline.storage.key)}.Arn>`);
    built.data.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    assert.equal(properties.Policy, undefined);
    assert.ok(built.pipeline.eventBus);
  });

  test('the key lets EventBridge use it for this bus of this account only', () => {
    const [key] = Object.values(built.data.findResources('AWS::KMS::Key'));
    const statements = (key!.Properties as { KeyPolicy: { Statement: Record<string, unknown>[] } }).KeyPolicy
      .Statement;
    const forEvents = statements.filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
    assert.equal(forEvents.length, 1);
    const busName = flatten(
      (
        built.data.toJSON().Resources[logicalId(built.pipeline.eventBus as EventBus)] as {
          Properties: { Name: unknown };
        }
      ).Properties.Name,
    );
    const condition = (forEvents[0]!.Condition as { StringEquals: Record<string, unknown> }).StringEquals;
    assert.equal(condition['aws:SourceAccount'], ENVIRONMENT.account);
    assert.equal(
      flatten(condition['aws:SourceArn']),
      `arn:<AWS::Partition>:events:eu-west-2:${ENVIRONMENT.account}:event-bus/${busName}`,
    );
  });

  test('exactly the functions that publish events may put events, on that bus only', () => {
    assert.deepEqual(PUBLISHERS.sort(), ['deliveryTracker', 'eventRelay', 'inboundDownload', 'outboundSend']);
    const busArn = `<${logicalId(built.pipeline.eventBus as EventBus)}.Arn>`;
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const puts = built.statements(name).filter((s) => s.actions.some((a) => a.startsWith('events:')));
      if (!PUBLISHERS.includes(name)) {
        assert.deepEqual(puts, [], name);
        continue;
      }
      assert.deepEqual(
        puts.map((s) => ({ sid: s.sid, actions: s.actions, resources: s.resources })),
        [{ sid: 'PutPipelineEvents', actions: ['events:PutEvents'], resources: [busArn] }],
        name,
      );
    }
  });

  test("the publishing functions get the bus's ARN, the source and the format; no other function does", () => {
    const busArn = `<${logicalId(built.pipeline.eventBus as EventBus)}.Arn>`;
    assert.equal(built.pipeline.eventSource, 'nhs-mesh-pipeline/MeshFunctions');
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const env = built.variables(name);
      const expected = PUBLISHERS.includes(name)
        ? [busArn, 'nhs-mesh-pipeline/MeshFunctions', 'true']
        : [undefined, undefined, undefined];
      assert.deepEqual(
        [env[ENV.eventBusName], env[ENV.eventSource], env[ENV.cloudEventsEnvelope]],
        expected,
        name,
      );
    }
  });

  test('a bus brought by ARN is used as it is: no bus is created, PutEvents is allowed on that ARN only', () => {
    const brought = synthesize((data) => ({
      eventBus: EventBus.fromEventBusArn(data, 'Central', BROUGHT_BUS_ARN),
      source: 'my-org/mesh',
    }));
    brought.data.resourceCountIs('AWS::Events::EventBus', 0);
    for (const name of PUBLISHERS) {
      const puts = brought.statements(name).filter((s) => s.actions.includes('events:PutEvents'));
      assert.deepEqual(
        puts.map((s) => s.resources),
        [[BROUGHT_BUS_ARN]],
        name,
      );
      const env = brought.variables(name);
      assert.equal(env[ENV.eventBusName], BROUGHT_BUS_ARN);
      assert.equal(env[ENV.eventSource], 'my-org/mesh');
      assert.equal(
        env[ENV.cloudEventsEnvelope],
        undefined,
        'plain bodies on the queues unless cloudevents is asked for',
      );
    }
  });

  test('plain events with no bus add nothing: no bus, no event variables, no events permission', () => {
    const plain = synthesize({ format: 'plain', eventBus: false });
    plain.data.resourceCountIs('AWS::Events::EventBus', 0);
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const env = plain.variables(name);
      assert.deepEqual(
        [ENV.eventBusName, ENV.eventSource, ENV.cloudEventsEnvelope].filter((v) => v in env),
        [],
        name,
      );
      assert.ok(!plain.statements(name).some((s) => s.actions.some((a) => a.startsWith('events:'))), name);
    }
  });

  test('in one stack too: a new bus with no unacknowledged cdk-nag finding', () => {
    const app = new App({ context: { '@aws-cdk/core:appMode': 'inmemory', 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Mesh', { env: ENVIRONMENT });
    const pipeline = new MeshPipeline(stack, 'Mesh', {
      meshEnvironment: 'integration',
      secretPrefix: 'nhs-mesh-pipeline/test/',
      events: { eventBus: true, format: 'cloudevents' },
    });
    acknowledgeMeshPipeline(pipeline);
    applyNagChecks(app);
    app.synth();
    Template.fromStack(stack).resourceCountIs('AWS::Events::EventBus', 1);
    assert.equal(pipeline.eventSource, 'nhs-mesh-pipeline/Mesh');
  });

  test("with an imported key, synthesis warns that the key's policy must let EventBridge use it for the bus", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Mesh', { env: ENVIRONMENT });
    new MeshPipeline(stack, 'Mesh', {
      meshEnvironment: 'integration',
      secretPrefix: 'nhs-mesh-pipeline/test/',
      encryptionKey: Key.fromKeyArn(
        stack,
        'Imported',
        `arn:aws:kms:eu-west-2:${ENVIRONMENT.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      ),
      events: { eventBus: true },
    });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('importedKeyEventBus'));
  });

  test('events props that cannot work fail synthesis, each problem named', () => {
    assert.throws(
      () =>
        synthesize({
          format: 'xml' as never,
          source: 'aws.mesh pipeline',
          eventBus: 'yes' as never,
        }),
      (error: unknown) =>
        error instanceof MeshPipelineConfigError &&
        error.problems.some((p) => p.startsWith('events.format "xml" is unknown')) &&
        error.problems.some((p) => p.includes('is not a URI reference')) &&
        error.problems.some((p) => p.includes('starts with aws.')) &&
        error.problems.some((p) => p.startsWith('events.eventBus must be')),
    );
    assert.throws(
      () => synthesize({ source: 'my-org/mesh' }),
      /events\.source is used only with format cloudevents or an eventBus/,
    );
  });
});
