import { App } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { applyNagChecks } from './nag.js';
import { acknowledgeNagFindings, NAG_ACKNOWLEDGEMENTS } from './nag-acknowledgements.js';
import { MeshPipelineStack } from './stacks/mesh-pipeline-stack.js';

/** London: NHS data stays in the UK. Override with `-c meshPipeline:region=...`. */
const DEFAULT_REGION = 'eu-west-2';

export interface MeshPipelineApp {
  readonly app: App;
  readonly stack: MeshPipelineStack;
}

/** Builds the whole app, cdk-nag included, so that `cdk synth` and the infra tests check the same thing. */
export function createApp(props: AppProps = {}): MeshPipelineApp {
  const app = new App(props);
  const region: unknown = app.node.tryGetContext('meshPipeline:region');
  const stack = new MeshPipelineStack(app, 'MeshPipelineStack', {
    description: 'NHS MESH pipeline (placeholder)',
    env: {
      // Unset offline: the stack stays account-agnostic and synth needs no credentials.
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: typeof region === 'string' ? region : DEFAULT_REGION,
    },
  });
  acknowledgeNagFindings(stack, NAG_ACKNOWLEDGEMENTS[stack.node.id] ?? []);
  applyNagChecks(app);
  return { app, stack };
}
