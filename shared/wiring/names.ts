/**
 * The names of the pipeline's parts: its queues, its functions, and the functions that run only at deploy time.
 * Every other wiring module keys its descriptions by these, so this one depends on none of them.
 */

export type QueueName = 'send' | 'download' | 'inboundEvents' | 'outboundStatus' | 'eventRelay';
/** The pipeline's functions: each runs on a queue or a schedule, and serves every mailbox. */
export type FunctionName =
  'outboundSend' | 'inboundPoll' | 'inboundDownload' | 'deliveryTracker' | 'health' | 'eventRelay';
/** Functions that run at deploy time only, never in the pipeline: CloudFormation invokes them. */
export type DeployFunctionName = 'registrySeed';
/** Functions behind an HTTP API, for people rather than the pipeline: built only when the console is switched on. */
export type ConsoleFunctionName = 'consoleApi';
