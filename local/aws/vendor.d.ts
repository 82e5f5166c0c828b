// Hand-written types for the two emulators that ship none. They cover only what local/aws uses, checked against
// s3rver 3.7.1 (lib/s3rver.js, lib/models/event.js, lib/models/error.js, lib/stores/filesystem.js) and
// dynalite 4.0.0 (index.js).

declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  namespace S3rver {
    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
    }

    /** One record as s3rver emits it: AWS-shaped, with a few fields wrong or missing (see s3-events.ts). */
    interface RawEventRecord {
      eventVersion: string;
      eventSource: string;
      awsRegion: string;
      eventTime: string;
      eventName: string;
      userIdentity: { principalId: string };
      requestParameters: { sourceIPAddress: string };
      responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
      s3: {
        s3SchemaVersion: string;
        configurationId: string;
        bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
        object: { key: string; sequencer: string; size?: number; eTag?: string };
      };
    }

    interface RawEvent {
      Records: RawEventRecord[];
    }

    interface FilesystemStore {
      existsObject(bucket: string, key: string): Promise<boolean>;
      getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    }
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rver.Options);
    /** Set in the constructor with no option to choose it; replaced (with context.store) by startS3. */
    store: S3rver.FilesystemStore;
    /** Koa's prototype for each request's ctx: ctx.store, which the controllers use, comes from here. */
    readonly context: { store: S3rver.FilesystemStore };
    /** A request listener for http.createServer(); documented in the s3rver README. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: 'event', listener: (event: S3rver.RawEvent) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }

  export = S3rver;
}

declare module 's3rver/lib/stores/filesystem.js' {
  import type { Readable } from 'node:stream';

  /** s3rver's store, which SinglePassMultipartStore extends; only the members it uses or overrides. */
  class FilesystemStore {
    constructor(rootDirectory: string);
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    existsObject(bucket: string, key: string): Promise<boolean>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    putPart(
      bucket: string,
      uploadId: string,
      partNumber: string | number,
      content: Readable,
    ): Promise<{ size: number; md5: string }>;
    putObjectMultipart(
      bucket: string,
      uploadId: string,
      parts: readonly { number: number; etag: string }[],
    ): Promise<{ size: number; md5: string }>;
  }
  export = FilesystemStore;
}

declare module 's3rver/lib/models/error.js' {
  /** An S3 error answer: s3rver sends code, message and detail (as x-amz-error-detail-* headers) back as XML. */
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string | number>);
    readonly code: string;
  }
  export = S3Error;
}

declare module 'dynalite' {
  import type { Server } from 'node:http';

  namespace dynalite {
    interface Options {
      /** LevelDB directory; in memory when absent. */
      path?: string;
      createTableMs?: number;
      deleteTableMs?: number;
      updateTableMs?: number;
      maxItemSizeKb?: number;
      verbose?: boolean;
      debug?: boolean;
    }
  }

  function dynalite(options?: dynalite.Options): Server;

  export = dynalite;
}
