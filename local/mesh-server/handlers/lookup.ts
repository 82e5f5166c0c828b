import type { LookupBody } from '../../../shared/mesh/protocol.js';
import type { LocalMailbox } from '../config.js';
import { jsonReply, type Reply } from '../reply.js';
import type { MeshRequest, ServerState } from './context.js';

function receiversOf(state: ServerState, workflowId: string): Readonly<LocalMailbox>[] {
  const workflow = state.config.workflows.get(workflowId);
  if (!workflow) return [];
  return workflow.receivers.flatMap((id) => {
    const mailbox = state.config.mailboxes.get(id);
    return mailbox ? [mailbox] : [];
  });
}

const results = (mailboxes: readonly Readonly<LocalMailbox>[]): LookupBody => ({
  results: mailboxes.map((m) => ({ mailbox_id: m.id, mailbox_name: m.name ?? m.id })),
});

/** Mailboxes of an ODS code that receive a workflow. No auth. */
export async function endpointLookup({ state, params }: MeshRequest): Promise<Reply> {
  const ods = params.ods!.toUpperCase();
  const found = receiversOf(state, params.workflowId!).filter((m) => m.ods?.toUpperCase() === ods);
  return jsonReply(200, results(found));
}

/** Every mailbox that receives a workflow. No auth. */
export async function workflowSearch({ state, params }: MeshRequest): Promise<Reply> {
  return jsonReply(200, results(receiversOf(state, params.workflowId!)));
}
