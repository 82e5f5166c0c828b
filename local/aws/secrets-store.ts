import { randomBytes, randomUUID } from 'node:crypto';

/** A Secrets Manager error: `type` is the `__type` the SDK maps to its exception class. */
export class SecretsManagerFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'SecretsManagerFault';
  }
}

export type SecretValue = { kind: 'string'; value: string } | { kind: 'binary'; base64: string };

export interface SecretVersion {
  readonly versionId: string;
  readonly value: SecretValue;
  readonly createdDate: Date;
  readonly stages: Set<string>;
}

export interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly createdDate: Date;
  description: string | undefined;
  lastChangedDate: Date;
  readonly versions: Map<string, SecretVersion>;
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

/** Secrets and their versions, with the AWSCURRENT / AWSPREVIOUS staging that PutSecretValue performs. */
export class SecretStore {
  private readonly secrets = new Map<string, Secret>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  create(
    name: string,
    value: SecretValue | undefined,
    options: { description?: string; versionId?: string },
  ): Secret {
    if (this.secrets.has(name)) {
      throw new SecretsManagerFault(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = new Date();
    const secret: Secret = {
      name,
      // Real ARNs end in a dash and six random characters, so code that builds ARNs from names breaks here too.
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      createdDate: now,
      description: options.description,
      lastChangedDate: now,
      versions: new Map(),
    };
    this.secrets.set(name, secret);
    if (value !== undefined) this.putValue(secret, value, options.versionId);
    return secret;
  }

  /** Adds a version and makes it AWSCURRENT; the old current version becomes AWSPREVIOUS. */
  putValue(secret: Secret, value: SecretValue, versionId: string = randomUUID()): SecretVersion {
    const existing = secret.versions.get(versionId);
    if (existing) {
      // A retried request reuses its ClientRequestToken: the same value is a no-op, a different one an error.
      if (sameValue(existing.value, value)) return existing;
      throw new SecretsManagerFault(
        'ResourceExistsException',
        `You can't modify an existing version, you can only create a new version.`,
      );
    }
    for (const version of secret.versions.values()) {
      version.stages.delete(PREVIOUS);
      if (version.stages.delete(CURRENT)) version.stages.add(PREVIOUS);
    }
    const version: SecretVersion = { versionId, value, createdDate: new Date(), stages: new Set([CURRENT]) };
    secret.versions.set(versionId, version);
    secret.lastChangedDate = version.createdDate;
    return version;
  }

  /** Finds a secret by name or full ARN, as SecretId allows. */
  find(secretId: string): Secret {
    const secret =
      this.secrets.get(secretId) ??
      [...this.secrets.values()].find((candidate) => candidate.arn === secretId);
    if (!secret) {
      throw new SecretsManagerFault(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    return secret;
  }

  findVersion(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretVersion {
    const wantedStage = stage ?? (versionId === undefined ? CURRENT : undefined);
    const version = [...secret.versions.values()].find(
      (candidate) =>
        (versionId === undefined || candidate.versionId === versionId) &&
        (wantedStage === undefined || candidate.stages.has(wantedStage)),
    );
    if (!version) {
      const what =
        versionId === undefined ? `staging label: ${String(wantedStage)}` : `VersionId: ${versionId}`;
      throw new SecretsManagerFault(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${what}`,
      );
    }
    return version;
  }

  /** Seeds a secret directly: creates it, or adds a new current version if it exists. */
  seed(name: string, value: string): void {
    const secret = this.secrets.get(name);
    const secretValue: SecretValue = { kind: 'string', value };
    if (secret) this.putValue(secret, secretValue);
    else this.create(name, secretValue, {});
  }
}

function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (a.kind === 'string' && b.kind === 'string') return a.value === b.value;
  if (a.kind === 'binary' && b.kind === 'binary') return a.base64 === b.base64;
  return false;
}

function randomSuffix(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return [...randomBytes(6)].map((byte) => letters[byte % letters.length]).join('');
}
