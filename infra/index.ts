// The npm package's main entry: the MeshPipeline construct, its props, and the cdk-nag wiring a consumer's app
// applies as this repository's own app does (README: use it in your own CDK app).
export { MeshPipeline } from './constructs/mesh-pipeline.js';
export {
  DEFAULTS,
  type MeshMailboxProps,
  type MeshPipelineAlarmProps,
  type MeshPipelineBucketProps,
  type MeshPipelineLogLevel,
  type MeshPipelineProps,
  type MeshPipelineRetentionProps,
  type MeshPipelineVpcProps,
} from './constructs/props.js';
export { MeshPipelineConfigError, validateMeshPipelineProps } from './constructs/validate.js';
export { MeshPipelineStorage } from './constructs/storage/pipeline-storage.js';
export { applyNagChecks, nagPacks } from './nag.js';
export { acknowledgeMeshPipeline, acknowledgeNagFindings, REASONS } from './nag-acknowledgements.js';
export type { OutboundRoute } from '../shared/outbound/addressing.js';
