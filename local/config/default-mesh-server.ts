import type { MeshServerConfigFile } from '../mesh-server/index.js';

/** The local MESH server's default mailboxes and workflows, modelled on NHS's sandbox (all passwords `password`). */
export const DEFAULT_MESH_SERVER_CONFIG: MeshServerConfigFile = {
  sharedSecret: 'TestKey',
  mailboxes: [
    { id: 'X26ABC1', password: 'password', ods: 'X26', name: 'Local mailbox A' },
    { id: 'X26ABC2', password: 'password', ods: 'X26', name: 'Local mailbox B' },
    { id: 'X26ABC3', password: 'password', ods: 'X27', name: 'Local mailbox C' },
  ],
  workflows: [
    {
      id: 'TEST_WORKFLOW',
      senders: ['X26ABC1', 'X26ABC2', 'X26ABC3'],
      receivers: ['X26ABC1', 'X26ABC2', 'X26ABC3'],
    },
    {
      id: 'TEST_WORKFLOW_ACK',
      senders: ['X26ABC1', 'X26ABC2', 'X26ABC3'],
      receivers: ['X26ABC1', 'X26ABC2', 'X26ABC3'],
    },
  ],
};
