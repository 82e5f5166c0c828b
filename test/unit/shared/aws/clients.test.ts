import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '../../../../shared/aws/clients.js';

/** A server that takes connections and never answers: a silent socket, as a stuck connection looks. */
describe('the AWS clients', () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let endpoint = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('give up on a call whose connection goes silent, after retrying it, instead of waiting for ever', async () => {
    const clients = createAwsClients(
      {
        dynamodb: {
          endpoint,
          region: 'eu-west-2',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          maxAttempts: 2,
        },
      },
      { connectionTimeout: 200, requestTimeout: 200 },
    );
    const call = clients.dynamo.send(new GetItemCommand({ TableName: 'silent', Key: { pk: { S: 'x' } } }));
    await assert.rejects(call, (error: Error & { $metadata?: { attempts?: number } }) => {
      assert.equal(error.name, 'TimeoutError');
      assert.equal(error.$metadata?.attempts, 2, 'the timed-out call was retried');
      return true;
    });
    clients.dynamo.destroy();
  });
});
