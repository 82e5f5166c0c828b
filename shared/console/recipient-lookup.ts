import { z } from 'zod';
import { errorFields, type Log } from '../observability/ports.js';
import { mailboxIdSchema } from '../registry/mailbox.js';
import type { ConsoleDeps } from './deps.js';
import { MeshUnavailableError, NotFoundError } from './errors.js';
import { requireMailbox, type ConsoleUser } from './identity.js';
import { parseInput } from './input.js';
import type { EndpointLookup, EndpointMatch } from './ports.js';

/** A field left out is refused in the same words as one left empty (prefault: it is checked as ''). */
const lookupQuerySchema = z.object({
  ods: z
    .string()
    .trim()
    .min(1, { error: 'Enter the ODS code', abort: true })
    .regex(/^[A-Za-z0-9]{2,12}$/, 'Enter an ODS code of 2 to 12 letters and digits, like X26 or RR8')
    .transform((ods) => ods.toUpperCase())
    .prefault(''),
  workflowId: z
    .string()
    .trim()
    .min(1, { error: 'Enter the workflow ID', abort: true })
    .regex(/^[A-Za-z0-9_.-]{1,300}$/, 'The workflow ID may contain only letters, digits, _ . and -')
    .prefault(''),
});

export interface RecipientLookupResult {
  readonly odsCode: string;
  readonly workflowId: string;
  /** Empty when MESH knows no mailbox of that organisation for that workflow. */
  readonly results: readonly EndpointMatch[];
}

/**
 * Finding a recipient by ODS code and workflow (MESH endpoint lookup), asked as a mailbox the user's groups grant
 * and the pipeline serves: its client certificate is what MESH answers. The answer names mailboxes only, which MESH
 * tells any of its clients, so it is not recorded in the audit trail.
 */
export class RecipientLookupUseCase {
  constructor(private readonly deps: Pick<ConsoleDeps, 'registry' | 'endpoints'>) {}

  async lookup(
    user: ConsoleUser,
    rawMailbox: string | undefined,
    query: unknown,
  ): Promise<RecipientLookupResult> {
    const mailboxId = parseInput(mailboxIdSchema, rawMailbox ?? '');
    requireMailbox(user, mailboxId);
    const { ods, workflowId } = parseInput(lookupQuerySchema, query);
    if (!(await this.deps.registry.get(mailboxId))) {
      throw new NotFoundError(
        `Mailbox ${mailboxId} is not registered in the pipeline, so it cannot ask MESH.`,
      );
    }
    const results = await this.deps.endpoints.find(mailboxId, ods, workflowId);
    return { odsCode: ods, workflowId, results };
  }
}

/** The part of a MESH client the lookup uses. */
export interface LookupClient {
  lookupEndpoint(odsCode: string, workflowId: string): Promise<readonly EndpointMatch[]>;
}

/**
 * EndpointLookup over the pipeline's own MESH clients (one per mailbox, from its secret, over mutual TLS). Whatever
 * stops MESH answering (no secret, a refused certificate, MESH down) is logged for operators with its cause, and the
 * user is told the lookup could not be made, never why in detail.
 */
export function meshEndpointLookup(
  clientFor: (mailboxId: string) => Promise<LookupClient>,
  log: Pick<Log, 'warn'>,
): EndpointLookup {
  return {
    async find(asMailbox: string, odsCode: string, workflowId: string): Promise<readonly EndpointMatch[]> {
      try {
        const client = await clientFor(asMailbox);
        return await client.lookupEndpoint(odsCode, workflowId);
      } catch (error) {
        log.warn('MESH endpoint lookup failed', {
          mailboxId: asMailbox,
          odsCode,
          workflowId,
          ...errorFields(error),
        });
        throw new MeshUnavailableError(
          `MESH could not be asked as ${asMailbox} just now. Try again in a few minutes, or enter the ` +
            'recipient mailbox ID if you know it. If it keeps happening, tell an operator.',
          { cause: error },
        );
      }
    },
  };
}
