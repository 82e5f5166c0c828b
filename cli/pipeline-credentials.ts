/**
 * `--from-secret`: a MESH command's credentials from the pipeline's own secret for the mailbox
 * (`{SecretPrefix}{MAILBOX}`, the one `mesh mailbox set-credentials` writes and the functions read), so an operator
 * checking a mailbox needs no copy of its password or key. Loaded only when asked for: it brings in the AWS SDK.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { secretsManagerPort } from '../shared/operations/aws.js';
import { parseMeshCredentials } from '../shared/secrets/mesh-credentials.js';
import type { KnownCredentials } from './config.js';
import { CliError, UsageError } from './errors.js';
import { openTarget, type StackOutputReader, type TargetFlags } from './target.js';

export async function credentialsFromPipelineSecret(
  mailboxId: string | undefined,
  flags: TargetFlags,
  env: NodeJS.ProcessEnv,
  options: { cwd?: string; readStackOutputs?: StackOutputReader } = {},
): Promise<KnownCredentials> {
  if (!mailboxId) throw new UsageError('--from-secret needs the mailbox: --mailbox ID or MESH_MAILBOX');
  const target = await openTarget(flags, env, options);
  const secretId = `${target.location.secretPrefix}${mailboxId}`;
  try {
    const raw = await secretsManagerPort(target.clients.secrets).value(secretId);
    // Names the fields that are wrong, never a value.
    return parseMeshCredentials(secretId, raw);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new CliError(
        `${target.description} has no secret ${secretId}: store it with mesh mailbox set-credentials ${mailboxId}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    target.close();
  }
}
