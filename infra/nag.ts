import { Validations } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { NagPack } from 'cdk-nag';

/** The rule packs every stack in the app must pass. HIPAA Security is the closest pack to NHS data handling. */
export function nagPacks(app: App): NagPack[] {
  return [new AwsSolutionsChecks(app, { verbose: true }), new HIPAASecurityChecks(app, { verbose: true })];
}

/**
 * Registers the packs as CDK policy-validation plugins (cdk-nag v3). Synthesis then fails on any finding, warning
 * or error, that is not acknowledged in nag-acknowledgements.ts.
 */
export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(...nagPacks(app));
}
