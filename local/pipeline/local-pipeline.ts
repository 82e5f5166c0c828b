import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients.js';
import type { FunctionOverrides } from '../../shared/config/function-runtime.js';
import type { OutboundRoute } from '../../shared/outbound/addressing.js';
import type { MailboxRecord } from '../../shared/registry/mailbox.js';
import { mailboxSecretId, parseMailboxSettings } from '../../shared/registry/mailbox.js';
import { MailboxRegistry } from '../../shared/registry/mailbox-registry.js';
import type { Log, MetricsSink } from '../../shared/observability/ports.js';
import { noMetrics } from '../../shared/observability/ports.js';
import type { MeshCredentials } from '../../shared/secrets/mesh-credentials.js';
import {
  DEFAULT_MAILBOX_CONCURRENCY,
  ENV,
  FUNCTIONS,
  MAILBOX_POLLING,
  KEY_LAYOUT,
  QUEUES,
  TUNING,
  type DeploymentNames,
  type FunctionName,
} from '../../shared/wiring/pipeline.js';
import { startLocalAws, type LocalAws } from '../aws/index.js';
import { startLocalAwsProcess } from '../aws/process.js';
import { DEFAULT_MESH_SERVER_CONFIG } from '../config/default-mesh-server.js';
import { startMeshServer, type MeshServerOptions, type RunningMeshServer } from '../mesh-server/index.js';
import { loadOrCreateTestPki } from '../pki.js';
import { bridgeS3Notifications } from '../runtime/s3-notifications.js';
import { SqsEventSource } from '../runtime/sqs-event-source.js';
import type { RemoteMailbox } from './config.js';
import { EventFeed } from './event-feed.js';
import type { LocalPipelineFile } from './pipeline-file.js';
import { createLocalFunctions, type LocalFunction } from './functions.js';
import { createLocalResources, scaledSeconds, type LocalResources } from './resources.js';
import { LocalSchedule } from './scheduler.js';

export interface LocalPipelineOptions {
  /** Where PKI files are cached between runs (default `.local`). */
  readonly dataDir?: string;
  /** A remote MESH API v2 server and its mailboxes; without it the local MESH server runs with its defaults. */
  readonly remote?: { readonly url: string; readonly mailboxes: readonly RemoteMailbox[] };
  /**
   * Options for the local MESH server. Its mailboxes (with `sharedSecret` and `workflows`) are the defaults
   * (local/config/default-mesh-server.ts) unless given here; the pipeline gets credentials for every one of them.
   */
  readonly meshServer?: Partial<MeshServerOptions>;
  /**
   * Where the AWS emulators run: in this process (default), or in a process of their own (local/aws/process.ts),
   * for a run too big for one core (the mailboxes benchmark). The EventBridge stand-in cannot be read across
   * processes.
   */
  readonly awsEmulators?: 'in-process' | 'own-process';
  /** Local MESH server port (default: any free port). */
  readonly meshPort?: number;
  /** The time budget of each local invocation; visibility timeouts and leases follow from it. */
  readonly functionTimeoutSeconds?: number;
  /**
   * Runs AWS's timings at this fraction of their deployed length, all in proportion (the chaos run: 1/30), instead
   * of `functionTimeoutSeconds`. Queues are created exactly as deployed (visibility timeouts, receive counts) and
   * the SQS emulator's clock runs 1/timeScale times as fast (its FIFO deduplication window with it). Each
   * queue-triggered function's time budget is its deployed timeout times timeScale. The functions' own timings (lease
   * grace, safety margin, tracking delays, relay delay, unknown-outcome rechecks, poisoned-message retry) are their
   * defaults times timeScale, in real time; the delays they put on their own messages are not scaled again.
   */
  readonly timeScale?: number;
  /**
   * The local length of MESH's five-minute poll interval (default 2 s; with a time scale, 300 s scaled). Registry
   * intervals are scaled by it, and the poll schedule ticks five times per interval, as AWS's every-minute schedule
   * does against five minutes.
   */
  readonly pollEveryMs?: number;
  readonly trackEveryMs?: number;
  /**
   * Mailboxes to register, with their secrets, at start (default: every mailbox of the MESH server, or of
   * `remote`); the others can be added while it runs, as an operator would (`mesh mailbox add`, `set-credentials`).
   */
  readonly registerMailboxes?: readonly string[];
  readonly log: Log;
  readonly metrics?: MetricsSink;
  /** For tests and the chaos run: instrumented clients, MESH client wrappers. */
  readonly overrides?: Omit<FunctionOverrides, 'log' | 'metrics'>;
  /** Extra function environment (e.g. small chunk sizes for the chaos run). */
  readonly env?: Record<string, string>;
  /** Consume the event queues and hand events to `events.on(...)` (default true). */
  readonly consumeEvents?: boolean;
  /** Invocations at once per queue-triggered function and mailbox (default from the wiring). */
  readonly concurrency?: number;
  readonly onFunctionError?: (name: string, error: unknown) => void;
  /** Chaos runs only: duplicate S3 notifications, lost SQS deletes, and more receives before the DLQ. */
  readonly chaos?: {
    readonly duplicateNotification: () => boolean;
    readonly skipDelete: () => boolean;
    /** Receives before dead-lettering, for every queue; the wiring's (as deployed) when absent. */
    readonly maxReceiveCount?: number;
    /** Adds fault middleware to the functions' AWS clients. */
    readonly instrumentClients: (clients: AwsClients) => void;
    /** Wraps every invocation (the crash injector runs each one under its plan). */
    readonly wrapInvocation: <T>(invoke: () => Promise<T>, invocation: LocalInvocation) => Promise<T>;
  };
}

/** Which function an invocation is of, and the event it was given (an SQS event for queue-triggered ones). */
export interface LocalInvocation {
  readonly functionName: FunctionName;
  readonly event: unknown;
}

export interface LocalPipeline {
  readonly mesh?: RunningMeshServer;
  readonly meshUrl: string;
  readonly aws: LocalAws;
  readonly clients: AwsClients;
  readonly resources: LocalResources;
  /** The registry the functions read (add, pause or remove mailboxes while it runs). */
  readonly registry: MailboxRegistry;
  /** The mailboxes registered at start. */
  readonly mailboxes: readonly MailboxRecord[];
  readonly events: EventFeed;
  /** Where the operator command line finds this pipeline (`npm start` writes it to `.local/pipeline.json`). */
  describe(): LocalPipelineFile;
  /** The resource names functions' environments are built from (functionEnvironment), e.g. for the console. */
  deploymentNames(): Omit<DeploymentNames, 'console'>;
  /** Runs a scheduled function now (e.g. to poll every due mailbox at once), waiting for it. */
  runScheduled(name: FunctionName): Promise<void>;
  stop(): Promise<void>;
}

/** Default local routes: a file dropped under a mailbox's outbound prefix goes to the next local mailbox. */
function defaultRoutes(ids: readonly string[]): OutboundRoute[][] {
  return ids.map((id, i) => [
    { prefix: KEY_LAYOUT.outboundPrefix(id), to: ids[(i + 1) % ids.length]!, workflowId: 'TEST_WORKFLOW' },
  ]);
}

/**
 * The whole pipeline on one machine: the MESH server (local, or remote), the AWS emulators, the resources the CDK
 * stack would create, every function per mailbox, and Lambda-like event sources and schedules wired as in AWS.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const dataDir = resolve(options.dataDir ?? '.local');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let mesh: RunningMeshServer | undefined;
    let meshUrl: string;
    let credentials: { id: string; credentials: MeshCredentials; routes?: readonly OutboundRoute[] }[];
    if (options.remote) {
      meshUrl = options.remote.url;
      credentials = options.remote.mailboxes.map((m) => ({
        id: m.id,
        credentials: m.credentials,
        routes: m.routes,
      }));
    } else {
      // The server's mailboxes (and the shared secret and workflows that go with them): the defaults, or those given
      // in `meshServer`, so that the pipeline holds credentials for, and registers, the mailboxes the server has.
      const config = {
        mailboxes: options.meshServer?.mailboxes ?? DEFAULT_MESH_SERVER_CONFIG.mailboxes,
        workflows:
          options.meshServer?.workflows ??
          (options.meshServer?.mailboxes ? [] : DEFAULT_MESH_SERVER_CONFIG.workflows),
        sharedSecret: options.meshServer?.sharedSecret ?? DEFAULT_MESH_SERVER_CONFIG.sharedSecret,
      };
      const ids = config.mailboxes.map((m) => m.id.toUpperCase());
      const { pki } = await loadOrCreateTestPki(join(dataDir, 'pki'), ids);
      const storeDir = await mkdtemp(join(tmpdir(), 'mesh-local-store-'));
      stops.push(() => rm(storeDir, { recursive: true, force: true }));
      mesh = await startMeshServer({
        ...config,
        port: options.meshPort ?? 0,
        storeDir,
        ...options.meshServer,
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      });
      stops.push(() => mesh!.close());
      meshUrl = mesh.url;
      const routes = defaultRoutes(ids);
      credentials = config.mailboxes.map((m, i) => ({
        id: ids[i]!,
        routes: routes[i],
        credentials: {
          password: m.password,
          sharedSecret: config.sharedSecret,
          clientCert: pki.clients[ids[i]!]!.cert,
          clientKey: pki.clients[ids[i]!]!.key,
          caCert: pki.ca.cert,
        },
      }));
    }

    const timeScale = options.timeScale;
    // With a time scale, the SQS emulator's clock runs 1/timeScale times as fast; delays a function puts on its own
    // messages are real seconds: it reads them, scaled, from its environment.
    const sqsTiming = timeScale === undefined ? undefined : { timeScale, messageDelays: 'real' as const };
    const aws =
      options.awsEmulators === 'own-process'
        ? await startLocalAwsProcess({ sqsTiming })
        : await startLocalAws({ sqsTiming });
    stops.push(() => aws.close());
    const clients =
      options.overrides?.clients ??
      createAwsClients({
        s3: aws.clientConfig('s3'),
        sqs: aws.clientConfig('sqs'),
        dynamodb: aws.clientConfig('dynamodb'),
        secretsManager: aws.clientConfig('secretsManager'),
      });
    // The functions get their own clients, so faults added to them never touch the harness's own calls.
    const functionClients = options.chaos ? createAwsClients(localClientConfigs(aws)) : clients;
    options.chaos?.instrumentClients(functionClients);
    const timeoutSeconds = options.functionTimeoutSeconds ?? 60;
    /**
     * A function's time budget. A queue-triggered function gets the one local timeout or, with a time scale, its
     * deployed timeout scaled (it sets the queue's visibility timeout, so the two scale together). Scheduled
     * functions keep their deployed timeout: nothing in SQS depends on it, and the poller keeps 15 s of it back.
     */
    const functionTimeoutMs = (name: FunctionName) =>
      FUNCTIONS[name].trigger.kind !== 'queue'
        ? FUNCTIONS[name].timeoutSeconds * 1000
        : timeScale === undefined
          ? timeoutSeconds * 1000
          : FUNCTIONS[name].timeoutSeconds * 1000 * timeScale;
    const resources = await createLocalResources(aws, {
      // With a time scale, queues are as deployed and the SQS clock does the scaling.
      functionTimeoutSeconds: timeScale === undefined ? timeoutSeconds : undefined,
      maxReceiveCount: options.chaos?.maxReceiveCount,
    });
    // Mailboxes are data: a secret under the deployment's prefix and a registry record each, as `mesh mailbox add`
    // and `mesh mailbox set-credentials` make them.
    const registry = new MailboxRegistry(clients.dynamo, resources.tableName, resources.secretPrefix);
    const register = options.registerMailboxes ?? credentials.map((c) => c.id);
    for (const c of credentials.filter((c) => register.includes(c.id))) {
      aws.secrets.put(mailboxSecretId(resources.secretPrefix, c.id), JSON.stringify(c.credentials));
      await registry.add(parseMailboxSettings({ id: c.id, routes: c.routes ? [...c.routes] : [] }));
    }
    const mailboxes = await registry.list();

    stops.push(async () => void unbridge());
    const unbridge = bridgeS3Notifications(
      clients.sqs,
      (listener) => aws.onS3Event(listener),
      [{ bucket: resources.outboundBucket, prefix: 'outbound/', queueUrl: resources.queue('send').url }],
      undefined,
      options.chaos?.duplicateNotification,
    );
    const pollIntervalMs =
      options.pollEveryMs ??
      (timeScale === undefined ? 2_000 : MAILBOX_POLLING.defaultIntervalSeconds * 1000 * timeScale);
    const localSeconds = (awsSeconds: number) =>
      timeScale === undefined
        ? scaledSeconds(awsSeconds, { functionTimeoutSeconds: timeoutSeconds })
        : Math.max(1, Math.round(awsSeconds * timeScale));

    const functions = createLocalFunctions({
      meshUrl,
      resources,
      overrides: {
        ...options.overrides,
        clients: functionClients,
        aws: { secretsManager: aws.clientConfig('secretsManager') },
        log: options.log,
        metrics: options.metrics ?? noMetrics,
      },
      env: {
        // Leases must lapse before a crashed invocation's message comes back (visibility = 1.5 x timeout).
        [ENV.leaseGraceMs]: String(Math.floor(timeoutSeconds * 250)),
        [ENV.safetyMarginMs]: String(
          Math.min(TUNING.safetyMarginMs.default, Math.floor(timeoutSeconds * 200)),
        ),
        [ENV.trackingFirstDelayMs]: '1000',
        [ENV.trackingBaseDelayMs]: '2000',
        [ENV.maxReceiveCount]: String(options.chaos?.maxReceiveCount ?? QUEUES.download.maxReceiveCount),
        [ENV.requeueAfterSeconds]: String(Math.ceil(timeoutSeconds * 3)),
        // The relay's delay keeps its AWS proportion to the function timeout (60 s against 900 s).
        [ENV.eventRelayDelaySeconds]: String(
          scaledSeconds(TUNING.eventRelayDelaySeconds.default, { functionTimeoutSeconds: timeoutSeconds }),
        ),
        // So do the rechecks of a first POST whose outcome is unknown (30 s to 480 s in AWS).
        [ENV.recoveryRecheckSeconds]: TUNING.recoveryRecheckSeconds.default
          .map((s) => scaledSeconds(s, { functionTimeoutSeconds: timeoutSeconds }))
          .join(','),
        [ENV.pollIntervalScale]: String(pollIntervalMs / (MAILBOX_POLLING.defaultIntervalSeconds * 1000)),
        // Registry changes made with the command line show within a second, not a minute.
        [ENV.registryCacheSeconds]: '1',
        [ENV.secretCacheSeconds]: '1',
        [ENV.pausedRetrySeconds]: String(localSeconds(TUNING.pausedRetrySeconds.default)),
        [ENV.slotLeaseSeconds]: String(localSeconds(TUNING.slotLeaseSeconds.default)),
        ...(timeScale === undefined ? {} : scaledFunctionEnv(timeScale, options.chaos?.maxReceiveCount)),
        ...options.env,
      },
    });
    stops.push(async () => {
      await Promise.all(functions.map((f) => f.close()));
    });

    const wrap = options.chaos?.wrapInvocation;
    for (const f of functions) {
      const original = f.handler;
      if (wrap)
        f.handler = (event, context) => wrap(() => original(event, context), { functionName: f.name, event });
    }
    const report = (f: LocalFunction) => (error: unknown) => options.onFunctionError?.(f.name, error);
    const schedules = new Map<FunctionName, LocalSchedule[]>();
    for (const f of functions) {
      const spec = FUNCTIONS[f.name];
      if (spec.trigger.kind === 'queue') {
        const queue = resources.queue(spec.trigger.queue);
        const source = new SqsEventSource({
          sqs: clients.sqs,
          queueUrl: queue.url,
          queueArn: queue.arn,
          functionName: f.name,
          handler: f.handler,
          batchSize: spec.trigger.batchSize,
          timeoutMs: functionTimeoutMs(f.name),
          // Not more at once than the mailboxes' caps can use: extra pollers on two cores only defer tasks.
          concurrency:
            options.concurrency ??
            Math.min(
              spec.trigger.maxConcurrency,
              DEFAULT_MAILBOX_CONCURRENCY * Math.max(1, mailboxes.length),
            ),
          waitSeconds: 1,
          onInvocationError: report(f),
          skipDelete: options.chaos?.skipDelete,
        });
        source.start();
        stops.push(() => source.stop());
      } else {
        const everyMs =
          f.name === 'inboundPoll'
            ? Math.max(100, Math.round(pollIntervalMs / 5))
            : f.name === 'deliveryTracker'
              ? (options.trackEveryMs ?? 3_000)
              : spec.trigger.everyMinutes * 60_000;
        const schedule = new LocalSchedule({
          functionName: f.name,
          everyMs,
          timeoutMs: functionTimeoutMs(f.name),
          handler: f.handler,
          onError: report(f),
        });
        schedule.start(true);
        stops.push(() => schedule.stop());
        schedules.set(f.name, [...(schedules.get(f.name) ?? []), schedule]);
      }
    }

    const events = new EventFeed(clients.sqs, {
      status: resources.queue('outboundStatus').url,
      inbound: resources.queue('inboundEvents').url,
    });
    if (options.consumeEvents !== false) {
      events.start();
      stops.push(() => events.stop());
    }

    return {
      mesh,
      meshUrl,
      aws,
      clients,
      resources,
      registry,
      mailboxes,
      events,
      describe: () => {
        const queue = (name: 'send' | 'download') => ({
          url: resources.queue(name).url,
          dlqUrl: resources.queue(name).dlq!.url,
        });
        return {
          endpoints: { ...aws.endpoints },
          region: aws.region,
          tableName: resources.tableName,
          secretPrefix: resources.secretPrefix,
          outboundBucket: resources.outboundBucket,
          inboundBucket: resources.inboundBucket,
          queues: { send: queue('send'), download: queue('download') },
        };
      },
      deploymentNames: () => ({
        meshUrl,
        tableName: resources.tableName,
        outboundBucket: resources.outboundBucket,
        inboundBucket: resources.inboundBucket,
        secretPrefix: resources.secretPrefix,
        queueUrl: (queue) => resources.queue(queue).url,
      }),
      runScheduled: async (name) => {
        await Promise.all((schedules.get(name) ?? []).map((s) => s.runNow()));
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The functions' own timings at their defaults (AWS's) times the scale, in real time, whole seconds where SQS or
 * the function takes seconds: these include the delays the functions put on the messages they send (the relay's
 * re-check, the unknown-outcome rechecks), which the emulator leaves unscaled because the functions also compare
 * them with their clock. What is configured on the queues stays as deployed, on the emulator's scaled clock.
 */
function scaledFunctionEnv(timeScale: number, maxReceiveCount: number | undefined): Record<string, string> {
  const ms = (awsMs: number) => String(Math.max(1, Math.round(awsMs * timeScale)));
  const seconds = (awsSeconds: number) => Math.max(1, Math.round(awsSeconds * timeScale));
  return {
    [ENV.leaseGraceMs]: ms(TUNING.leaseGraceMs.default),
    [ENV.safetyMarginMs]: ms(TUNING.safetyMarginMs.default),
    [ENV.trackingFirstDelayMs]: ms(TUNING.trackingFirstDelayMs.default),
    [ENV.trackingBaseDelayMs]: ms(TUNING.trackingBaseDelayMs.default),
    [ENV.requeueAfterSeconds]: String(seconds(TUNING.requeueAfterSeconds.default)),
    [ENV.recoveryRecheckSeconds]: TUNING.recoveryRecheckSeconds.default.map(seconds).join(','),
    [ENV.eventRelayDelaySeconds]: String(seconds(TUNING.eventRelayDelaySeconds.default)),
    [ENV.maxReceiveCount]: String(maxReceiveCount ?? QUEUES.download.maxReceiveCount),
  };
}

function localClientConfigs(aws: LocalAws) {
  return {
    s3: aws.clientConfig('s3'),
    sqs: aws.clientConfig('sqs'),
    dynamodb: aws.clientConfig('dynamodb'),
    secretsManager: aws.clientConfig('secretsManager'),
  };
}
