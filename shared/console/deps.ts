import type {
  InboundLookup,
  OutboundObjects,
  RegistryPort,
  TaskQueues,
  TransferLookup,
} from '../operations/ports.js';
import type { AuditTrail, ConsoleRecords, EndpointLookup, UrlSigner } from './ports.js';

/** Everything the console's use cases need, each behind a small interface (fakes in unit tests, the SDK in AWS). */
export interface ConsoleDeps {
  readonly registry: RegistryPort;
  readonly records: ConsoleRecords;
  readonly transfers: TransferLookup;
  readonly inbound: InboundLookup;
  /** The outbound object versions a key has (finding a transfer by the key the console uploaded it to). */
  readonly objects: OutboundObjects;
  readonly queues: TaskQueues;
  readonly signer: UrlSigner;
  readonly audit: AuditTrail;
  /** MESH's endpoint lookup, asked as a mailbox of the pipeline (finding a recipient by ODS code and workflow). */
  readonly endpoints: EndpointLookup;
  readonly outboundBucket: string;
  readonly inboundBucket: string;
  readonly now: () => Date;
}
