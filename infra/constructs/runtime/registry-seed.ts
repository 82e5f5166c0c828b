import { CustomResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEPLOY_FUNCTIONS,
  functionEnvironment,
  type DeploymentNames,
} from '../../../shared/wiring/pipeline.js';
import { SEED_PROPERTIES, SEED_RESOURCE_TYPE } from '../../../functions/registry-seed/handler.js';
import { seedPayload } from '../mailboxes.js';
import type { MeshMailboxProps } from '../props.js';
import type { MeshPipelineStorage } from '../storage/pipeline-storage.js';
import {
  leastPrivilegeFunction,
  type FunctionDefaults,
  type FunctionParts,
} from './least-privilege-function.js';
import { seedStatements } from './permissions.js';

export interface RegistrySeedProps extends FunctionDefaults {
  readonly storage: MeshPipelineStorage;
  /** The names and addresses its environment is built from (the fleet's: shared/wiring functionEnvironment). */
  readonly deployment: DeploymentNames;
  readonly mailboxes: readonly MeshMailboxProps[];
}

/**
 * Seeds the registry with the configured mailboxes, with a fixed number of resources whatever their number: one
 * function and one custom resource whose properties carry the whole list. On create and on every change of the list
 * the function adds each mailbox that is not registered yet (a conditional put: it never overwrites what operators
 * changed since); on delete it does nothing, so removing the stack or a mailbox from the list never removes a
 * mailbox from the registry.
 *
 * The function is the custom resource's own provider (it answers CloudFormation itself), rather than a CDK Provider
 * framework, which would add a second function, role and log group, with an AWS-managed policy, for no gain here.
 */
export class RegistrySeed extends Construct implements FunctionParts {
  readonly fn: FunctionParts['fn'];
  readonly role: FunctionParts['role'];
  readonly policy: FunctionParts['policy'];
  readonly logGroup: FunctionParts['logGroup'];
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: RegistrySeedProps) {
    super(scope, id);
    const { storage } = props;
    const parts = leastPrivilegeFunction(this, props, {
      spec: DEPLOY_FUNCTIONS.registrySeed,
      statements: (logGroup) => seedStatements(this, { storage, logGroup }),
      environment: functionEnvironment('registrySeed', props.deployment),
      // Deployments of one stack never overlap; one is all it ever needs.
      reservedConcurrency: 1,
    });
    this.fn = parts.fn;
    this.role = parts.role;
    this.policy = parts.policy;
    this.logGroup = parts.logGroup;
    this.resource = new CustomResource(this, 'Mailboxes', {
      serviceToken: this.fn.functionArn,
      resourceType: SEED_RESOURCE_TYPE,
      properties: { [SEED_PROPERTIES.mailboxes]: seedPayload(props.mailboxes) },
    });
    // CloudFormation invokes the function as soon as it exists; its permissions must be in place by then.
    this.resource.node.addDependency(this.policy);
  }
}
