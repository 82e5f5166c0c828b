import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  LOCAL_PIPELINE_FILE,
  locationFromStackOutputs,
  openTarget,
  parseLocalPipelineFile,
  readLocalPipelineFile,
  writeLocalPipelineFile,
  type LocalPipelineFile,
} from '../../../cli/target.js';

const LOCAL: LocalPipelineFile = {
  endpoints: {
    s3: 'http://127.0.0.1:4001',
    sqs: 'http://127.0.0.1:4002',
    dynamodb: 'http://127.0.0.1:4003',
    secretsManager: 'http://127.0.0.1:4004',
  },
  region: 'eu-west-2',
  tableName: 'mesh-pipeline',
  secretPrefix: 'mesh/',
  outboundBucket: 'mesh-outbound',
  inboundBucket: 'mesh-inbound',
  queues: {
    send: {
      url: 'http://sqs.eu-west-2.localhost:4002/0/mesh-send',
      dlqUrl: 'http://sqs.eu-west-2.localhost:4002/0/mesh-send-dlq',
    },
    download: {
      url: 'http://sqs.eu-west-2.localhost:4002/0/mesh-download',
      dlqUrl: 'http://sqs.eu-west-2.localhost:4002/0/mesh-download-dlq',
    },
  },
};

const OUTPUTS = {
  TableName: 't',
  SecretPrefix: 'mesh/prod/',
  DataKeyArn: 'arn:aws:kms:eu-west-2:1:key/k',
  OutboundBucketName: 'out',
  InboundBucketName: 'in',
  SendQueueUrl: 'https://sqs/send',
  SendDlqUrl: 'https://sqs/send-dlq',
  DownloadQueueUrl: 'https://sqs/download',
  DownloadDlqUrl: 'https://sqs/download-dlq',
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'target-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('the local pipeline file', () => {
  test('round-trips through write and read', async () => {
    const path = join(dir, 'written', 'pipeline.json');
    await writeLocalPipelineFile(path, LOCAL);

    assert.deepEqual(await readLocalPipelineFile(path), LOCAL);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), LOCAL);
  });

  test('names every problem of a wrong one', () => {
    assert.throws(
      () =>
        parseLocalPipelineFile({ ...LOCAL, tableName: '', queues: { send: LOCAL.queues.send } }, 'f.json'),
      (error: Error) => {
        assert.match(error.message, /^f\.json is not a local pipeline description: /);
        assert.match(error.message, /tableName: /);
        assert.match(error.message, /queues\.download: /);
        return true;
      },
    );
  });
});

describe('picking the pipeline', () => {
  test('the local one by default when its file exists, or from --local-file', async () => {
    await writeLocalPipelineFile(join(dir, LOCAL_PIPELINE_FILE), LOCAL);

    const byDefault = await openTarget({}, {}, { cwd: dir });
    const byFile = await openTarget({ 'local-file': join(dir, LOCAL_PIPELINE_FILE) }, {}, { cwd: '/' });
    byDefault.close();
    byFile.close();

    assert.equal(byDefault.location.tableName, 'mesh-pipeline');
    assert.match(byDefault.description, /^local pipeline/);
    assert.deepEqual(byFile.location, byDefault.location);
  });

  test('a deployed one from the outputs of every --stack, merged', async () => {
    const asked: string[][] = [];
    const target = await openTarget(
      { stack: ['MeshPipelineData', 'MeshPipelineFunctions'] },
      { AWS_REGION: 'eu-west-2' },
      { cwd: dir, readStackOutputs: async (stacks) => (asked.push([...stacks]), OUTPUTS) },
    );
    target.close();

    assert.deepEqual(asked, [['MeshPipelineData', 'MeshPipelineFunctions']]);
    assert.equal(target.description, 'stacks MeshPipelineData, MeshPipelineFunctions (eu-west-2)');
    assert.deepEqual(target.location, {
      tableName: 't',
      secretPrefix: 'mesh/prod/',
      dataKeyArn: 'arn:aws:kms:eu-west-2:1:key/k',
      outboundBucket: 'out',
      inboundBucket: 'in',
      queues: {
        send: { url: 'https://sqs/send', dlqUrl: 'https://sqs/send-dlq' },
        download: { url: 'https://sqs/download', dlqUrl: 'https://sqs/download-dlq' },
      },
    });
  });

  test('MESH_PIPELINE_STACK names the stacks when no flag does', async () => {
    let asked: readonly string[] = [];
    const target = await openTarget(
      {},
      { MESH_PIPELINE_STACK: 'A, B' },
      { cwd: '/nonexistent', readStackOutputs: async (stacks) => ((asked = stacks), OUTPUTS) },
    );
    target.close();

    assert.deepEqual(asked, ['A', 'B']);
  });

  test('names every missing output, and refuses both kinds of pipeline at once or none', async () => {
    assert.throws(
      () => locationFromStackOutputs({ TableName: 't', SecretPrefix: '' }, ['S']),
      /stack S lacks the output\(s\) OutboundBucketName, InboundBucketName, SendQueueUrl, SendDlqUrl, DownloadQueueUrl, DownloadDlqUrl/,
    );
    await assert.rejects(openTarget({ stack: ['S'], local: true }, {}), /--stack or --local, not both/);
    await assert.rejects(openTarget({}, {}, { cwd: '/nonexistent' }), /no pipeline to act on/);
    await assert.rejects(
      openTarget({ local: true }, {}, { cwd: '/nonexistent' }),
      /no local pipeline: cannot read/,
    );
  });
});
