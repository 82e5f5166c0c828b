import { App, Stack } from 'aws-cdk-lib';
import { acknowledgeMeshPipeline, applyNagChecks, MeshPipeline } from 'nhs-mesh-pipeline';

const app = new App();
const data = new Stack(app, 'MeshData', { env: { region: 'eu-west-2' }, terminationProtection: true });
const functions = new Stack(app, 'MeshFunctions', { env: { region: 'eu-west-2' } });

const pipeline = new MeshPipeline(functions, 'Mesh', {
  meshEnvironment: 'integration', // or 'production', or the https:// URL of another MESH
  secretPrefix: 'my-service/mesh/', // mailbox secrets are my-service/mesh/{MAILBOX}
  mailboxes: [{ id: 'X26ABC1', expectInboundWithinHours: 24 }], // seeded; add more with `mesh mailbox add`
  alarms: { email: 'mesh-oncall@example.nhs.uk' },
  retention: { inboundDays: 90, outboundDays: 30 }, // earlier versions go after 30 days unless set
  tags: { service: 'my-service', 'data-classification': 'official-sensitive' },
  logLevel: 'INFO',
  statefulScope: data, // key, buckets, table and queues in their own stack; omit for one stack
});

// cdk-nag (AWS Solutions and HIPAA Security) with the pipeline's reasoned acknowledgements.
acknowledgeMeshPipeline(pipeline);
applyNagChecks(app);
