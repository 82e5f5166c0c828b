import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';

/**
 * The console: the MESH UI's jobs for staff (send, inbox, outbox) and an operations page, behind Cognito sign-in
 * with MFA. Switched on by giving `console` in MeshPipelineProps.
 */
export interface MeshConsoleProps {
  /**
   * Prefix of the Cognito hosted sign-in domain, `https://{prefix}.auth.{region}.amazoncognito.com`: unique in the
   * region, lowercase letters, digits and hyphens.
   */
  readonly signInDomainPrefix: string;
  /**
   * Minutes a session lasts before the user signs in again (the ID token's validity): 5 to 60.
   * @default 60
   */
  readonly sessionMinutes?: number;
  /**
   * Countries whose viewers may load the pages (CloudFront geo restriction, ISO 3166 codes).
   * @default ['GB']
   */
  readonly allowedCountries?: readonly string[];
  /**
   * A WAF web ACL (CLOUDFRONT scope, in us-east-1) for the pages and the API, by ARN.
   * @default none: the API checks every call's JWT and is throttled; add one where local policy requires it
   */
  readonly webAclArn?: string;
  /**
   * A custom domain for the console, with its ACM certificate (in us-east-1): viewers then need TLS 1.2 or later.
   * Needed when the pipeline's storage is in another stack: the outbound bucket's CORS rule names this origin.
   * @default the CloudFront domain, with CloudFront's own certificate
   */
  readonly domain?: { readonly names: readonly string[]; readonly certificate: ICertificate };
  /**
   * Cognito's Plus tier with full threat protection (compromised credentials, adaptive authentication): billed per
   * monthly active user.
   * @default true
   */
  readonly threatProtection?: boolean;
}
