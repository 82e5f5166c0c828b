import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadMeshServerConfig, MeshServerConfigError } from '../../../local/mesh-server/index.js';

describe('local MESH server config file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mesh-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, value: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  }

  test('loads mailboxes, workflows and the shared secret', async () => {
    const path = await write('good.json', {
      sharedSecret: 'TestKey',
      mailboxes: [
        { id: 'X26ABC1', password: 'password', ods: 'X26' },
        { id: 'X26ABC2', password: 'password' },
      ],
      workflows: [{ id: 'WF', senders: ['X26ABC1'], receivers: ['x26abc2'] }],
    });

    const config = await loadMeshServerConfig(path);

    assert.equal(config.sharedSecret, 'TestKey');
    assert.deepEqual(
      config.mailboxes.map((m) => m.id),
      ['X26ABC1', 'X26ABC2'],
    );
  });

  test('names every problem in one error', async () => {
    const path = await write('bad.json', {
      sharedSecret: '',
      mailboxes: [
        { id: 'X26ABC1', password: 'p' },
        { id: 'x26abc1', password: '' },
      ],
      workflows: [{ id: 'WF', senders: ['NOBODY'], receivers: [] }],
    });

    await assert.rejects(loadMeshServerConfig(path), (error: unknown) => {
      assert.ok(error instanceof MeshServerConfigError);
      assert.deepEqual(error.problems, [
        'mailboxes[1].id: duplicate mailbox "X26ABC1"',
        'mailboxes[1].password: must be a non-empty string',
        'workflows[0].senders: unknown mailbox "NOBODY"',
        'sharedSecret: must be a non-empty string',
      ]);
      return true;
    });
  });

  test('refuses keys it does not know, so typos do not pass silently', async () => {
    const path = await write('typo.json', {
      sharedSecret: 'k',
      mailboxes: [{ id: 'X26ABC1', pasword: 'p' }],
    });

    await assert.rejects(loadMeshServerConfig(path), /mailboxes\[0\]: unknown key "pasword"/);
  });

  test('says which file is not JSON', async () => {
    const path = await write('broken.json', '{ not json');

    await assert.rejects(loadMeshServerConfig(path), /broken\.json: is not valid JSON/);
  });
});
