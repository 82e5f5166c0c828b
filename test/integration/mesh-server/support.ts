/** Shared set-up for the local MESH server tests: a fresh PKI, a server over mutual TLS, and raw v2 clients. */
import { Agent, request, type Dispatcher } from 'undici';
import { AuthTokenGenerator } from '../../../shared/mesh/auth.js';
import { H, MESH_V2_ACCEPT } from '../../../shared/mesh/protocol.js';
import { generateTestPki, type PemPair, type TestPki } from '../../../local/pki.js';
import {
  startMeshServer,
  type MeshServerOptions,
  type RunningMeshServer,
} from '../../../local/mesh-server/index.js';

export const SHARED_SECRET = 'TestKey';
export const PASSWORD = 'password';
export const MAILBOXES = ['X26ABC1', 'X26ABC2', 'X26ABC3'] as const;

/** A clock the test can move; both the server and the token generators read it. */
export class TestClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
}

export interface MeshResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json<T = unknown>(): T;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Leave out the Authorization header, or send this one instead of a fresh token. */
  auth?: false | string;
}

function flatten(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** A raw MESH v2 client for one mailbox: new token per request, v2 Accept, the mailbox's client certificate. */
export class MeshTestClient {
  readonly tokens: AuthTokenGenerator;

  constructor(
    readonly baseUrl: string,
    readonly mailbox: string,
    readonly agent: Agent,
    clock: TestClock,
    password = PASSWORD,
    sharedSecret = SHARED_SECRET,
  ) {
    this.tokens = new AuthTokenGenerator(mailbox, password, sharedSecret, clock.now);
  }

  async call(method: Dispatcher.HttpMethod, path: string, opts: SendOptions = {}): Promise<MeshResponse> {
    const headers: Record<string, string> = { accept: MESH_V2_ACCEPT, ...opts.headers };
    if (opts.auth !== false) headers['authorization'] = opts.auth ?? this.tokens.next();
    const res = await request(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: opts.body,
      dispatcher: this.agent,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return {
      status: res.statusCode,
      headers: flatten(res.headers),
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    };
  }

  handshake(headers: Record<string, string> = HANDSHAKE_HEADERS): Promise<MeshResponse> {
    return this.call('POST', `/messageexchange/${this.mailbox}`, { headers });
  }

  async send(to: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<string> {
    const res = await this.call('POST', `/messageexchange/${this.mailbox}/outbox`, {
      headers: {
        [H.to]: to,
        [H.workflowId]: 'TEST_WORKFLOW',
        'content-type': 'application/octet-stream',
        ...headers,
      },
      body,
    });
    if (res.status !== 202) throw new Error(`send failed: ${res.status} ${res.body.toString()}`);
    return res.json<{ message_id: string }>().message_id;
  }

  inbox(query = ''): Promise<MeshResponse> {
    return this.call('GET', `/messageexchange/${this.mailbox}/inbox${query}`);
  }

  download(messageId: string, chunk?: number, headers: Record<string, string> = {}): Promise<MeshResponse> {
    const suffix = chunk === undefined ? '' : `/${chunk}`;
    return this.call('GET', `/messageexchange/${this.mailbox}/inbox/${messageId}${suffix}`, { headers });
  }

  ack(messageId: string): Promise<MeshResponse> {
    return this.call('PUT', `/messageexchange/${this.mailbox}/inbox/${messageId}/status/acknowledged`);
  }

  track(messageId: string): Promise<MeshResponse> {
    return this.call('GET', `/messageexchange/${this.mailbox}/outbox/tracking?messageID=${messageId}`);
  }
}

export const HANDSHAKE_HEADERS = {
  [H.clientVersion]: 'test;1.0',
  [H.osName]: 'Linux',
  [H.osVersion]: '6.1',
};

export function tlsAgent(pki: TestPki, client: PemPair | undefined): Agent {
  return new Agent({
    connect: {
      ...(client ? { cert: client.cert, key: client.key } : {}),
      ca: pki.ca.cert,
      rejectUnauthorized: true,
    },
  });
}

export interface TestMesh {
  server: RunningMeshServer;
  pki: TestPki;
  clock: TestClock;
  /** A client for the mailbox over its own certificate (`cert: null` for none); closed with the harness. */
  as(
    mailbox: string,
    opts?: { password?: string; sharedSecret?: string; cert?: PemPair | null },
  ): MeshTestClient;
  close(): Promise<void>;
}

let sharedPki: Promise<TestPki> | undefined;

/** One PKI per test process is enough; issuing certificates is the slow part of start-up. */
export function testPki(): Promise<TestPki> {
  sharedPki ??= generateTestPki({ mailboxes: [...MAILBOXES] });
  return sharedPki;
}

export async function startTestMesh(options: Partial<MeshServerOptions> = {}): Promise<TestMesh> {
  const pki = await testPki();
  const clock = new TestClock();
  const server = await startMeshServer({
    mailboxes: MAILBOXES.map((id) => ({
      id,
      password: PASSWORD,
      ods: id === 'X26ABC3' ? 'X27' : 'X26',
      name: `Box ${id}`,
    })),
    workflows: [
      { id: 'TEST_WORKFLOW', senders: ['X26ABC1', 'X26ABC2'], receivers: ['X26ABC2', 'X26ABC3'] },
      { id: 'TEST_WORKFLOW_ACK', senders: ['X26ABC2'], receivers: ['X26ABC1'] },
    ],
    sharedSecret: SHARED_SECRET,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    now: clock.now,
    ...options,
  });
  const agents: Agent[] = [];
  return {
    server,
    pki,
    clock,
    as(mailbox, opts = {}) {
      const agent = tlsAgent(pki, opts.cert === null ? undefined : (opts.cert ?? pki.clients[mailbox]));
      agents.push(agent);
      return new MeshTestClient(server.url, mailbox, agent, clock, opts.password, opts.sharedSecret);
    },
    async close() {
      await Promise.all(agents.map((a) => a.destroy()));
      await server.close();
    },
  };
}
