import {
  MeshAuthenticationError,
  MeshError,
  MeshNetworkError,
  MeshRetriesExhaustedError,
  MeshTlsError,
} from '../mesh/errors.js';
import { METRICS } from '../observability/metric-names.js';
import { errorFields, type Log, type MetricsSink } from '../observability/ports.js';
import type { MeshCredentials } from '../secrets/mesh-credentials.js';
import { CERTIFICATE_WARNING_DAYS, certificateExpiry } from './certificate.js';

/** Why a mailbox failed its health check; each kind has its own hint for the engineer reading the log. */
export type HealthFailureKind = 'credentials' | 'authentication' | 'tls' | 'network' | 'mesh' | 'unexpected';

export type MailboxHealth =
  | {
      readonly mailboxId: string;
      readonly ok: true;
      readonly daysToExpiry: number;
      readonly certificateNotAfter: string;
    }
  | {
      readonly mailboxId: string;
      readonly ok: false;
      readonly failure: HealthFailureKind;
      /** Absent when the certificate could not be read. */
      readonly daysToExpiry?: number;
      readonly certificateNotAfter?: string;
    };

export interface HealthCheckDeps {
  /** The mailbox's parsed secret. */
  readonly credentials: (mailboxId: string) => Promise<MeshCredentials>;
  /** One authenticated MESH handshake over mutual TLS with the mailbox's credentials. */
  readonly handshake: (mailboxId: string, signal: AbortSignal) => Promise<void>;
  /** Every figure is counted under its mailbox, so each mailbox's alarm contributor is its own. */
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly now?: () => Date;
}

export const HEALTH_FAILURE_HINTS: Readonly<Record<HealthFailureKind, string>> = {
  credentials:
    'the mailbox secret could not be read or is incomplete: check that it exists and holds the documented JSON ' +
    '(password, sharedSecret, clientCert, clientKey, caCert)',
  authentication:
    'MESH refused the credentials: check password and sharedSecret in the secret, and that the mailbox exists in ' +
    'this MESH environment',
  tls:
    'the TLS handshake failed: check that the client certificate has not expired, was issued for this mailbox and ' +
    'environment, and that caCert is this environment\u2019s CA chain',
  network:
    'MESH could not be reached in time: check outbound HTTPS (443) from the function (NAT, security group) and ' +
    'the MESH service status',
  mesh: 'MESH answered with an error: see status, code and description',
  unexpected: 'an unexpected error: see the error fields',
};

/**
 * The daily check the MESH specification asks for: one authenticated handshake per mailbox, plus the client
 * certificate's days to expiry. Every outcome is a metric, so a failure alarms at once and a missing check alarms
 * too; nothing is thrown, because a retry of the whole invocation would only repeat the same answer.
 */
export class HealthCheck {
  private readonly now: () => Date;

  constructor(private readonly deps: HealthCheckDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async check(mailboxId: string, signal: AbortSignal): Promise<MailboxHealth> {
    let certificate: { daysToExpiry: number; certificateNotAfter: string } | undefined;
    try {
      const credentials = await this.deps.credentials(mailboxId);
      const expiry = certificateExpiry(credentials.clientCert, this.now());
      certificate = { daysToExpiry: expiry.daysToExpiry, certificateNotAfter: expiry.notAfter.toISOString() };
    } catch (error) {
      return this.failed(mailboxId, 'credentials', error, undefined);
    }
    this.deps.metrics.add(METRICS.certificateDaysToExpiry, 'Count', certificate.daysToExpiry, mailboxId);
    if (certificate.daysToExpiry < CERTIFICATE_WARNING_DAYS) {
      this.deps.log.warn('MESH client certificate expires soon: request a new one now', {
        mailboxId,
        ...certificate,
      });
    }

    try {
      await this.deps.handshake(mailboxId, signal);
    } catch (error) {
      return this.failed(mailboxId, signal.aborted ? 'network' : classify(error), error, certificate);
    }
    this.record(mailboxId, true);
    this.deps.log.info('MESH health check passed', { mailboxId, ...certificate });
    return { mailboxId, ok: true, ...certificate };
  }

  private failed(
    mailboxId: string,
    failure: HealthFailureKind,
    error: unknown,
    certificate: { daysToExpiry: number; certificateNotAfter: string } | undefined,
  ): MailboxHealth {
    this.record(mailboxId, false);
    // errorFields keeps names, codes and MESH's description: never the secret, a token or a body.
    this.deps.log.error('MESH health check failed', {
      mailboxId,
      failure,
      hint: HEALTH_FAILURE_HINTS[failure],
      ...certificate,
      ...errorFields(error),
    });
    return { mailboxId, ok: false, failure, ...certificate };
  }

  /** Both figures every run: the failure alarm clears on the next good check, and silence is itself alarmed. */
  private record(mailboxId: string, ok: boolean): void {
    this.deps.metrics.add(METRICS.healthCheckFailed, 'Count', ok ? 0 : 1, mailboxId);
    this.deps.metrics.add(METRICS.healthCheckSucceeded, 'Count', ok ? 1 : 0, mailboxId);
  }
}

function classify(error: unknown): HealthFailureKind {
  if (error instanceof MeshAuthenticationError) return 'authentication';
  if (error instanceof MeshTlsError) return 'tls';
  if (error instanceof MeshNetworkError || error instanceof MeshRetriesExhaustedError) return 'network';
  if (error instanceof MeshError) return 'mesh';
  return 'unexpected';
}
