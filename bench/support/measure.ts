import type { ChildJob } from './child-protocol.js';
import { runInChild, type ForkOptions } from './fork.js';
import type { Measurement } from './report.js';
import type { Stage } from './stage.js';

/**
 * Runs a job in a child and measures it, together with the CPU the servers spent meanwhile: the MESH server
 * process, and this process, which holds the AWS emulators (its share includes forking the child, a few ms).
 */
export async function measure(
  stage: Stage,
  label: string,
  bytes: number,
  job: ChildJob,
  options: ForkOptions = {},
): Promise<{ measurement: Measurement; failures: readonly string[]; messageId?: string; bytes?: number }> {
  const before = stage.serverCpu();
  const run = await runInChild(job, options);
  const after = stage.serverCpu();
  return {
    measurement: {
      label,
      bytes,
      ms: run.ms,
      maxRssKb: run.maxRssKb,
      cpuMs: run.cpuMs,
      meshCpuMs: after.meshMs - before.meshMs,
      awsCpuMs: after.awsMs - before.awsMs,
      heapUsedKb: run.peaks.heapUsedKb,
      arrayBuffersKb: run.peaks.arrayBuffersKb,
      requests: run.requests,
    },
    failures: run.failures ?? [],
    messageId: run.messageId,
    bytes: run.bytes,
  };
}
