import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeServer, endpointFor, listen } from './http.js';
import { readJsonObject, sendJson, type JsonObject } from './json-protocol.js';
import { SecretsManagerFault, SecretStore } from './secrets-store.js';
import type { Secret, SecretValue, SecretVersion } from './secrets-store.js';

export interface SecretsManagerEmulator {
  readonly endpoint: string;
  /** Creates the secret, or gives it a new AWSCURRENT version if it exists. */
  put(name: string, value: string): void;
  close(): Promise<void>;
}

type Operation = (store: SecretStore, input: JsonObject) => JsonObject;

/** Larger than any valid request: a secret value is at most 64 KiB. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * A Secrets Manager stand-in (no emulator exists on the registry): the AWS JSON 1.1 protocol over HTTP, with
 * GetSecretValue, CreateSecret, PutSecretValue and DescribeSecret. Requests are not authenticated; signatures are
 * neither checked nor required.
 */
export async function startSecretsManager(options: {
  port: number;
  region: string;
  accountId: string;
}): Promise<SecretsManagerEmulator> {
  const store = new SecretStore(options.region, options.accountId);
  const server = createServer((req, res) => {
    handle(store, req, res).catch((error: unknown) => {
      const fault =
        error instanceof SecretsManagerFault
          ? error
          : new SecretsManagerFault(
              'InternalServiceError',
              error instanceof Error ? error.message : 'error',
              500,
            );
      sendJson(res, fault.status, { __type: fault.type, Message: fault.message }, fault.type);
    });
  });
  const port = await listen(server, options.port);
  return {
    endpoint: endpointFor(port),
    put: (name, value) => store.seed(name, value),
    close: () => closeServer(server),
  };
}

async function handle(store: SecretStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.headers['x-amz-target'];
  const operationName = typeof target === 'string' ? target.replace(/^secretsmanager\./, '') : '';
  // hasOwn: a target such as `secretsmanager.toString` must not reach Object.prototype.
  const operation = Object.hasOwn(OPERATIONS, operationName) ? OPERATIONS[operationName] : undefined;
  if (req.method !== 'POST' || !operation) {
    throw new SecretsManagerFault(
      'UnknownOperationException',
      `Unsupported operation: ${operationName || '-'}`,
    );
  }
  const input = await readJsonObject(req, MAX_REQUEST_BYTES, {
    tooLarge: () => new SecretsManagerFault('InvalidRequestException', 'Request too large.'),
    notJson: () => new SecretsManagerFault('SerializationException', 'Request body is not valid JSON.'),
    notObject: () => new SecretsManagerFault('SerializationException', 'Request body must be a JSON object.'),
  });
  sendJson(res, 200, operation(store, input));
}

const OPERATIONS: Record<string, Operation> = {
  GetSecretValue(store, input) {
    const secret = store.find(requiredString(input, 'SecretId'));
    const version = store.findVersion(
      secret,
      optionalString(input, 'VersionId'),
      optionalString(input, 'VersionStage'),
    );
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...valueFields(version.value),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdDate),
    };
  },

  CreateSecret(store, input) {
    const secret = store.create(requiredString(input, 'Name'), secretValueOf(input), {
      description: optionalString(input, 'Description'),
      versionId: optionalString(input, 'ClientRequestToken'),
    });
    const [version] = secret.versions.values();
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
  },

  PutSecretValue(store, input) {
    const secret = store.find(requiredString(input, 'SecretId'));
    const value = secretValueOf(input);
    if (value === undefined) {
      throw new SecretsManagerFault(
        'InvalidRequestException',
        'You must provide either SecretString or SecretBinary.',
      );
    }
    const version = store.putValue(secret, value, optionalString(input, 'ClientRequestToken'));
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      VersionStages: [...version.stages],
    };
  },

  DescribeSecret(store, input) {
    const secret = store.find(requiredString(input, 'SecretId'));
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description === undefined ? {} : { Description: secret.description }),
      CreatedDate: epochSeconds(secret.createdDate),
      LastChangedDate: epochSeconds(secret.lastChangedDate),
      VersionIdsToStages: versionsToStages(secret),
    };
  },
};

function valueFields(value: SecretValue): JsonObject {
  return value.kind === 'string' ? { SecretString: value.value } : { SecretBinary: value.base64 };
}

function versionsToStages(secret: Secret): Record<string, string[]> {
  const entries = [...secret.versions.values()]
    .filter((version: SecretVersion) => version.stages.size > 0)
    .map((version) => [version.versionId, [...version.stages]]);
  return Object.fromEntries(entries);
}

function secretValueOf(input: JsonObject): SecretValue | undefined {
  const text = optionalString(input, 'SecretString');
  const binary = optionalString(input, 'SecretBinary');
  if (text !== undefined && binary !== undefined) {
    throw new SecretsManagerFault(
      'InvalidParameterException',
      'You can provide only one of SecretString or SecretBinary.',
    );
  }
  if (text !== undefined) return { kind: 'string', value: text };
  // The JSON protocol carries blobs as base64, and the SDK decodes them again on the way back.
  if (binary !== undefined) return { kind: 'binary', base64: binary };
  return undefined;
}

/** Timestamps in AWS JSON 1.1 are epoch seconds, fractions allowed. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function optionalString(input: JsonObject, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new SecretsManagerFault('InvalidParameterException', `${name} must be a string.`);
  }
  return value;
}

function requiredString(input: JsonObject, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined || value === '') {
    throw new SecretsManagerFault('InvalidParameterException', `You must specify ${name}.`);
  }
  return value;
}
