import { Validations } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';

/** One accepted cdk-nag finding: which rule, on which construct, and why it is acceptable here. */
export interface NagAcknowledgement {
  /** Construct path below the stack, e.g. `OutboundQueue/Resource`; `''` for the whole stack. */
  readonly path: string;
  /** Rule id as cdk-nag reports it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** Why the finding is accepted; reviewed like code. */
  readonly reason: string;
}

/**
 * Every acknowledgement in the app, by stack id, in this one file so that they are reviewed together. The
 * placeholder stack passes both packs as it is, so there are none yet.
 */
export const NAG_ACKNOWLEDGEMENTS: Readonly<Record<string, readonly NagAcknowledgement[]>> = {
  MeshPipelineStack: [],
};

const MIN_REASON_LENGTH = 20;

/**
 * Applies a stack's acknowledgements. An acknowledgement whose construct no longer exists, or whose reason is a
 * token gesture, fails synthesis: a stale one would otherwise silently cover the next construct given that path.
 */
export function acknowledgeNagFindings(stack: Stack, acknowledgements: readonly NagAcknowledgement[]): void {
  const problems: string[] = [];
  for (const acknowledgement of acknowledgements) {
    const path = acknowledgement.path === '' ? stack.node.path : `${stack.node.path}/${acknowledgement.path}`;
    const target = stack.node.findAll().find((construct) => construct.node.path === path);
    if (!target) problems.push(`${acknowledgement.id}: no construct at ${path}`);
    if (acknowledgement.reason.trim().length < MIN_REASON_LENGTH) {
      problems.push(`${acknowledgement.id} at ${path}: give a real reason`);
    }
    if (target)
      Validations.of(target).acknowledge({ id: acknowledgement.id, reason: acknowledgement.reason });
  }
  // Reported together, so one synth shows every stale or unexplained acknowledgement.
  if (problems.length > 0) throw new Error(`invalid cdk-nag acknowledgements:\n${problems.join('\n')}`);
}
