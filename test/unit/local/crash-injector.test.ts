import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { CrashInjector, InjectedCrash } from '../../../local/faults/crash-injector.js';

const crashAfter = { after: () => true };

describe('a crash injected just after a call', () => {
  test('destroys a stream the call returned, as a dying process closes its connections', async () => {
    const injector = new CrashInjector();
    const body = Readable.from(['never read']);

    await assert.rejects(
      injector.run(crashAfter, () => injector.around('mesh:download', async () => body)),
      InjectedCrash,
    );

    assert.equal(body.destroyed, true);
  });

  test("destroys the body of a result that carries one (a chunk download's answer)", async () => {
    const injector = new CrashInjector();
    const body = Readable.from(['never read']);

    await assert.rejects(
      injector.run(crashAfter, () =>
        injector.around('mesh:downloadChunk', async () => ({ chunkNumber: 1, body })),
      ),
      InjectedCrash,
    );

    assert.equal(body.destroyed, true);
  });

  test('leaves a result without a stream as it was, and still crashes', async () => {
    const injector = new CrashInjector();
    const result = { messageId: 'M1' };

    await assert.rejects(
      injector.run(crashAfter, () => injector.around('mesh:sendMessage', async () => result)),
      /injected crash at after mesh:sendMessage/,
    );

    assert.deepEqual(result, { messageId: 'M1' });
  });
});
