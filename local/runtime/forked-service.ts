/**
 * The forked side of a service that runs in a process of its own (the AWS emulators, the benches' MESH server), so
 * that it has a core of its own and its CPU can be read apart from its client's.
 */

/** A start-up failure, as the forked side tells its parent. */
export interface ServiceStartFailure {
  readonly type: 'error';
  readonly message: string;
}

/** Runs `serve` when this process was forked with `flag`, its messages sent to the parent while it is there. */
export function serveWhenForked<M>(flag: string, serve: (send: (message: M) => void) => void): void {
  if (process.argv[2] !== flag || !process.send) return;
  // Nothing is sent once the parent has gone (it would be an EPIPE): the process is on its way out.
  serve((message) => {
    if (process.connected) process.send!(message);
  });
}

/** Tells the parent why the service did not start, then lets go of it so that this process can end. */
export function reportStartFailure(send: (message: ServiceStartFailure) => void): (error: unknown) => void {
  return (error) => {
    send({ type: 'error', message: String(error) });
    process.disconnect();
  };
}
