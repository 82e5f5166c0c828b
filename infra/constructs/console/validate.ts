import { Token } from 'aws-cdk-lib';
import type { MeshConsoleProps } from './props.js';

/** A Cognito domain prefix: lowercase letters, digits and inner hyphens, up to 63 characters. */
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Words Cognito refuses in a prefix of its own domain. */
const RESERVED_WORDS = ['aws', 'amazon', 'cognito'];

/**
 * The console's props, checked with the pipeline's (validate.ts) so synthesis lists every problem at once, before
 * Cognito or CDK would refuse one of them alone (or, for the prefix's reserved words, at deploy).
 */
export function checkConsoleProps(props: MeshConsoleProps | undefined, problems: string[]): void {
  if (props === undefined) return;
  const prefix: unknown = props.signInDomainPrefix;
  if (typeof prefix !== 'string' || prefix === '') {
    problems.push(
      'console.signInDomainPrefix is missing: name the Cognito sign-in domain prefix, e.g. acme-mesh-console',
    );
  } else if (!Token.isUnresolved(prefix)) {
    if (!DOMAIN_PREFIX.test(prefix)) {
      problems.push(
        `console.signInDomainPrefix "${prefix}" is not a Cognito domain prefix: 1 to 63 lowercase letters, ` +
          'digits and hyphens, starting and ending with a letter or digit',
      );
    }
    const reserved = RESERVED_WORDS.filter((word) => prefix.toLowerCase().includes(word));
    if (reserved.length > 0) {
      problems.push(
        `console.signInDomainPrefix "${prefix}" contains ${reserved.map((w) => `"${w}"`).join(', ')}, ` +
          'which Cognito reserves',
      );
    }
  }
  const minutes: unknown = props.sessionMinutes;
  if (
    minutes !== undefined &&
    (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 5 || minutes > 60)
  ) {
    problems.push(`console.sessionMinutes ${String(minutes)} must be a whole number from 5 to 60`);
  }
}
