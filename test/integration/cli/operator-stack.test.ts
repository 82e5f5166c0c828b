/**
 * A deployed pipeline found from its CloudFormation outputs, against a stand-in that answers DescribeStacks as
 * CloudFormation does (AWS query protocol, XML), reached through the SDK's AWS_ENDPOINT_URL_CLOUDFORMATION.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openTarget } from '../../../cli/target.js';

const STACKS: Record<string, Record<string, string>> = {
  MeshPipelineData: {
    TableName: 'MeshPipelineData-Table-1',
    SecretPrefix: 'mesh/prod/',
    DataKeyArn: 'arn:aws:kms:eu-west-2:111122223333:key/k',
    OutboundBucketName: 'out-bucket',
    InboundBucketName: 'in-bucket',
    SendQueueUrl: 'https://sqs.eu-west-2.amazonaws.com/111122223333/send',
    SendDlqUrl: 'https://sqs.eu-west-2.amazonaws.com/111122223333/send-dlq',
    DownloadQueueUrl: 'https://sqs.eu-west-2.amazonaws.com/111122223333/download',
  },
  MeshPipelineFunctions: {
    DownloadDlqUrl: 'https://sqs.eu-west-2.amazonaws.com/111122223333/download-dlq',
    DashboardName: 'mesh',
  },
};

let server: Server;
const asked: string[] = [];

function describeStacks(name: string): string {
  const outputs = Object.entries(STACKS[name]!)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  return (
    '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult>' +
    `<Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:eu-west-2:111122223333:stack/${name}/1</StackId>` +
    '<CreationTime>2026-11-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus>' +
    `<Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult>` +
    '<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>'
  );
}

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const name = new URLSearchParams(body).get('StackName') ?? '';
      asked.push(name);
      if (!STACKS[name]) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>' +
            `<Message>Stack with id ${name} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(describeStacks(name));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-2',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a deployed pipeline from its stacks', () => {
  test('merges the outputs of every stack given', async () => {
    const target = await openTarget({ stack: ['MeshPipelineData', 'MeshPipelineFunctions'] }, process.env, {
      cwd: '/nonexistent',
    });
    target.close();

    assert.deepEqual(asked.slice(-2), ['MeshPipelineData', 'MeshPipelineFunctions']);
    assert.equal(target.local, false);
    assert.equal(target.location.tableName, 'MeshPipelineData-Table-1');
    assert.equal(target.location.dataKeyArn, 'arn:aws:kms:eu-west-2:111122223333:key/k');
    assert.deepEqual(target.location.queues.download, {
      url: 'https://sqs.eu-west-2.amazonaws.com/111122223333/download',
      dlqUrl: 'https://sqs.eu-west-2.amazonaws.com/111122223333/download-dlq',
    });
  });

  test('one stack of a split deployment is not enough, and says which outputs are missing', async () => {
    await assert.rejects(
      openTarget({ stack: ['MeshPipelineData'] }, process.env, { cwd: '/nonexistent' }),
      /stack MeshPipelineData lacks the output\(s\) DownloadDlqUrl \(give every stack of the deployment with --stack\)/,
    );
  });

  test('a stack that does not exist is named', async () => {
    await assert.rejects(
      openTarget({ stack: ['Nope'] }, process.env, { cwd: '/nonexistent' }),
      /^UsageError: stack Nope does not exist in this region$/,
    );
  });
});
