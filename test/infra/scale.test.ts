import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Stack } from 'aws-cdk-lib';
import { MAX_SEED_BYTES } from '../../infra/constructs/mailboxes.js';
import { SEED_PROPERTIES, SEED_RESOURCE_TYPE, parseSeedList } from '../../functions/registry-seed/handler.js';
import { MAILBOX_POLLING } from '../../shared/wiring/pipeline.js';
import { configWithMailboxes, createTestApp, generatedMailboxes } from './app.js';

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/**
 * Synthesises the app with `count` mailboxes in the context, cdk-nag included (an unacknowledged finding fails the
 * synth), and returns each stack's template by its role.
 */
function synthWith(count: number): Record<'data' | 'functions', Template> {
  const built = createTestApp({ config: configWithMailboxes(generatedMailboxes(count)) });
  const assembly = built.app.synth();
  const template = (stack: Stack) => assembly.getStackByName(stack.stackName).template as Template;
  return { data: template(built.statefulStack), functions: template(built.statelessStack) };
}

function typeCounts(template: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values(template.Resources)) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return counts;
}

const one = synthWith(1);
const thousand = synthWith(1000);

describe('any number of mailboxes', () => {
  test('synthesises, cdk-nag passing, with the same resources for 1 and 1,000 mailboxes', () => {
    for (const stack of ['data', 'functions'] as const) {
      const counts = [one, thousand].map((t) => Object.keys(t[stack].Resources).length);
      assert.equal(
        counts[0],
        counts[1],
        `${stack} stack: ${counts[0]} resources for 1 mailbox, ${counts[1]} for 1,000`,
      );
      assert.deepEqual(typeCounts(thousand[stack]), typeCounts(one[stack]), `${stack} stack resource types`);
      // Recorded in the output, so the figures are at hand when the stacks change.
      console.log(`${stack} stack: ${counts[0]} resources with 1 mailbox, ${counts[1]} with 1,000`);
    }
  });

  test('keeps every stack far under the 500 resources CloudFormation allows', () => {
    for (const stack of ['data', 'functions'] as const) {
      const count = Object.keys(thousand[stack].Resources).length;
      assert.ok(count < 500, `${stack} stack has ${count} resources`);
      assert.ok(count < 100, `${stack} stack has ${count} resources: something grows again`);
    }
  });

  test('names no mailbox in any resource but the one seeding resource', () => {
    for (const stack of ['data', 'functions'] as const) {
      for (const [id, resource] of Object.entries(thousand[stack].Resources)) {
        if (resource.Type === SEED_RESOURCE_TYPE) continue;
        const text = JSON.stringify(resource);
        assert.doesNotMatch(text, /X26\d{4}/, `${stack} ${id} (${resource.Type}) names a mailbox`);
      }
    }
  });

  test('seeds all 1,000 mailboxes from one custom resource, within the size the seeding request allows', () => {
    const seeds = Object.values(thousand.functions.Resources).filter((r) => r.Type === SEED_RESOURCE_TYPE);
    assert.equal(seeds.length, 1);
    const payload = seeds[0]!.Properties![SEED_PROPERTIES.mailboxes];
    assert.equal(typeof payload, 'string');
    assert.ok((payload as string).length <= MAX_SEED_BYTES, `${(payload as string).length} bytes`);
    // Read as the seeding function reads it.
    const settings = parseSeedList(payload);
    assert.deepEqual(
      settings.map((s) => s.id),
      generatedMailboxes(1000).map((m) => m.id),
    );
    assert.ok(settings.every((s) => s.pollIntervalSeconds === MAILBOX_POLLING.defaultIntervalSeconds));
  });
});
