/**
 * The AWS emulators in a process of their own: a run that puts the whole pipeline on one machine (the mailboxes
 * benchmark) gives them a core of their own rather than having them take turns with the functions on one event
 * loop, as AWS's services never would. The clients reach them over HTTP on loopback exactly as they reach the
 * in-process ones; what LocalAws does without HTTP (seeding secrets, S3 event records) crosses over IPC. The
 * emulators stop when this process disconnects or exits.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  clientConfigs,
  LOCAL_AWS_CREDENTIALS,
  localAwsEnv,
  startLocalAws,
  type AwsService,
  type LocalAws,
  type S3EventListener,
  type StartLocalAwsOptions,
} from './index.js';
import { reportStartFailure, serveWhenForked } from '../runtime/forked-service.js';

type S3EventRecord = Parameters<S3EventListener>[0];

/** What the emulators' process sends. */
type FromEmulators =
  | { type: 'ready'; region: string; accountId: string; endpoints: Record<AwsService, string> }
  | { type: 'error'; message: string }
  | { type: 's3Event'; record: S3EventRecord };

/** What this process sends, after the options. */
type ToEmulators = { type: 'putSecret'; name: string; value: string } | { type: 'subscribeS3' };

/** LocalAws, running elsewhere, plus what only a separate process has. */
export interface LocalAwsProcess extends LocalAws {
  /** CPU time (user + system) the emulators' process has used so far, in ms; 0 where /proc is not available. */
  cpuMs(): number;
}

const SELF = fileURLToPath(import.meta.url);
/** The child's argument: other modules that fork themselves (and import this one) use other flags. */
const SERVE_FLAG = '--serve-local-aws';
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the emulators in a child process (with `tsx`, as this project runs). The EventBridge stand-in's record of
 * events is not reachable from here: a run that reads it uses startLocalAws.
 */
export function startLocalAwsProcess(options: StartLocalAwsOptions = {}): Promise<LocalAwsProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, [SERVE_FLAG], {
      cwd: PROJECT_ROOT,
      // LOCAL_AWS_FLAGS: extra node flags for the emulators' process, e.g. to profile it.
      execArgv: ['--import', 'tsx', ...(process.env.LOCAL_AWS_FLAGS ?? '').split(/\s+/).filter(Boolean)],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const listeners = new Set<S3EventListener>();
    const send = (message: ToEmulators) => {
      if (child.connected) child.send(message);
    };
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the AWS emulators' process exited with code ${code}`)));
    child.on('message', (message: FromEmulators) => {
      if (message.type === 'error') {
        reject(new Error(`the AWS emulators did not start: ${message.message}`));
      } else if (message.type === 's3Event') {
        for (const listener of listeners) listener(message.record);
      } else {
        const { region, accountId, endpoints } = message;
        let closing: Promise<void> | undefined;
        const unavailable = (): never => {
          throw new Error(
            'the EventBridge stand-in runs in the emulators process: use startLocalAws to read it',
          );
        };
        resolve({
          region,
          accountId,
          credentials: LOCAL_AWS_CREDENTIALS,
          endpoints,
          clientConfig: (service) => clientConfigs(region, endpoints)[service],
          env: () => localAwsEnv(region, endpoints),
          onS3Event: (listener) => {
            if (listeners.size === 0) send({ type: 'subscribeS3' });
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
          // IPC keeps order, and a secret is put before anything reads it over HTTP.
          secrets: { put: (name, value) => send({ type: 'putSecret', name, value }) },
          eventBridge: {
            events: unavailable,
            failNextEntries: unavailable,
            get refusedEntries(): number {
              return unavailable();
            },
          },
          cpuMs: () => processCpuMs(child.pid!),
          close: () => {
            closing ??= (async () => {
              if (child.connected) child.disconnect();
              await exited;
            })();
            return closing;
          },
        });
      }
    });
    child.send(options);
  });
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms); 0 without /proc. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The emulators' side: starts them with the parent's options and serves its requests until it disconnects. */
function serve(send: (message: FromEmulators) => void): void {
  process.once('message', (options: StartLocalAwsOptions) => {
    startLocalAws(options).then((aws) => {
      let unsubscribe: (() => void) | undefined;
      process.on('message', (message: ToEmulators) => {
        if (message.type === 'putSecret') aws.secrets.put(message.name, message.value);
        else if (message.type === 'subscribeS3')
          unsubscribe ??= aws.onS3Event((record) => send({ type: 's3Event', record }));
      });
      send({
        type: 'ready',
        region: aws.region,
        accountId: aws.accountId,
        endpoints: { ...aws.endpoints },
      });
      process.once('disconnect', () => {
        unsubscribe?.();
        void aws.close().finally(() => process.exit(0));
      });
    }, reportStartFailure(send));
  });
}

serveWhenForked(SERVE_FLAG, serve);
