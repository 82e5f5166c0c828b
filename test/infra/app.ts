// Builds the app as `cdk synth` does: same entry (createApp) and the context from cdk.json (feature flags and the
// sample pipeline configuration), which the CLI passes and a test would otherwise leave out.
import { readFileSync } from 'node:fs';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createApp } from '../../infra/create-app.js';
import type { MeshPipelineApp } from '../../infra/create-app.js';

export function cdkJsonContext(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('context' in parsed)) return {};
  const { context } = parsed;
  return typeof context === 'object' && context !== null ? { ...context } : {};
}

/** The sample `meshPipeline` configuration of cdk.json, for tests that change one setting of it. */
export function sampleConfig(): Record<string, unknown> {
  return structuredClone(cdkJsonContext().meshPipeline as Record<string, unknown>);
}

/** `count` plain mailboxes, X260000 upwards, as a large deployment's cdk.json would list them. */
export function generatedMailboxes(count: number): { id: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: `X26${String(i).padStart(4, '0')}` }));
}

/** The sample configuration with its mailboxes replaced. */
export function configWithMailboxes(mailboxes: readonly unknown[]): Record<string, unknown> {
  return { ...sampleConfig(), mailboxes };
}

export interface TestAppOptions {
  /** Replaces the `meshPipeline` context. */
  readonly config?: unknown;
  /** Runs esbuild for every function (slow); off, the assets are placeholders. @default false */
  readonly bundling?: boolean;
}

export function createTestApp(options: TestAppOptions = {}): MeshPipelineApp {
  return createApp({
    context: {
      ...cdkJsonContext(),
      ...(options.config === undefined ? {} : { meshPipeline: options.config }),
      // In-memory mode puts the whole validation report in the thrown error instead of printing it.
      '@aws-cdk/core:appMode': 'inmemory',
      // Records each function's asset directory in its template metadata, as the CLI does.
      'aws:cdk:enable-asset-metadata': true,
      ...(options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
}

export interface Synthesized extends MeshPipelineApp {
  readonly data: Template;
  readonly functions: Template;
}

/** Synthesises once (cdk-nag included) and wraps both templates; share the result across a file's tests. */
export function synthesize(options: TestAppOptions = {}): Synthesized {
  const built = createTestApp(options);
  built.app.synth();
  return {
    ...built,
    data: Template.fromStack(built.statefulStack),
    functions: Template.fromStack(built.statelessStack),
  };
}

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalId(construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement))
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(element).getLogicalId(element);
}
