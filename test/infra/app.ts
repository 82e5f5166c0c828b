// Builds the app as `cdk synth` does: same entry (createApp) and the feature flags from cdk.json, which the CLI
// passes as context and a test would otherwise leave out.
import { readFileSync } from 'node:fs';
import { createApp } from '../../infra/create-app.js';
import type { MeshPipelineApp } from '../../infra/create-app.js';

function cdkJsonContext(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('context' in parsed)) return {};
  const { context } = parsed;
  return typeof context === 'object' && context !== null ? { ...context } : {};
}

export function createTestApp(): MeshPipelineApp {
  return createApp({
    context: {
      ...cdkJsonContext(),
      // In-memory mode puts the whole validation report in the thrown error instead of printing it.
      '@aws-cdk/core:appMode': 'inmemory',
    },
  });
}
