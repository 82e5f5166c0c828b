import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from '../../local/chaos/run-chaos.js';

test('a 100-file chaos run loses nothing and duplicates nothing', async () => {
  const lines: string[] = [];
  const result = await runChaos({
    files: 100,
    seed: 20261121,
    maxFileBytes: 6_000_000,
    faultRate: 0.1,
    timeoutMs: 8 * 60_000,
    say: (line) => void lines.push(line),
  });

  assert.equal(result.lost, 0, lines.join('\n'));
  assert.equal(result.duplicateMessages, 0);
  assert.equal(result.duplicateEvents, 0);
  assert.equal(result.ackedNotStored, 0);
  assert.equal(result.delivered + result.terminalFailures, 100);
  assert.ok(result.faults >= 100, `only ${result.faults} faults were injected`);
  assert.ok(
    result.faultsByKind['mesh-server']! > 0 &&
      Object.keys(result.faultsByKind).some((k) => k.startsWith('crash-')),
  );
});
