export const USAGE = `mesh: a MESH API v2 client

Usage: mesh <command> [options]

Commands:
  handshake                          validate the mailbox and connection
  send FILE --to MAILBOX --workflow ID [--subject S] [--local-id ID] [--filename NAME]
            [--content-type TYPE] [--chunk-size BYTES] [--no-compress]
  inbox [--all]                      list message ids ready for download (--all: every page)
  download ID [--out FILE] [--ack]   stream a message to FILE (or stdout); --ack acknowledges it after
  ack ID                             acknowledge a downloaded message
  track ID                           delivery status of a message this mailbox sent
  lookup ODS WORKFLOW                mailboxes for an ODS code and workflow
  workflows WORKFLOW                 mailboxes that receive a workflow
  server [--port N] [--config FILE] [--dir DIR] [--http]
                                     run the local MESH server (HTTPS with mutual TLS)

Operator commands (act on a pipeline's registry, records and queues, not on MESH):
  mailbox add ID [--route PREFIX=TO:WORKFLOW ...] [--poll-interval SECONDS] [--expect-inbound-hours H]
              [--paused]             register a mailbox; PREFIX is under outbound/ID/ (e.g. results/), TO or
                                     WORKFLOW may be empty; polled every 300 s unless told (300 to 86400)
  mailbox add ID --settings FILE [--paused]
                                     the same from a JSON file ({ routes, pollIntervalSeconds, ... })
  mailbox list                       every registered mailbox, its state and polls
  mailbox show ID                    settings, state, last and next poll, last inbound, its secret and
                                     certificate expiry (never a secret's value)
  mailbox pause ID [--reason TEXT]   stop polling it until resumed
  mailbox resume ID
  mailbox remove ID                  remove it from the registry (its secret is left in Secrets Manager)
  mailbox set-credentials ID --cert FILE --key FILE --ca FILE --password-file FILE
              --shared-secret-file FILE [--key-passphrase-file FILE]
                                     store its MESH credentials in its secret, checked first; any one file
                                     may be - (standard input). Or --stdin: a JSON object of MeshCredentials
                                     fields (password, sharedSecret, clientCert, clientKey, caCert,
                                     clientKeyPassphrase) on standard input. Secrets are never arguments.
  transfer show REF [--mailbox ID]   an outbound transfer by S3 key (outbound/...), transfer id, MESH message
                                     id or local id: status, attempts, chunks, reasons, times
  message show REF [--mailbox ID]    an inbound message by S3 key (inbound/...) or MESH message id
  redrive transfer REF [--force]     resume a stalled transfer from its last checkpoint
  redrive message MAILBOX MESSAGEID [--force]
                                     give a poisoned inbound message a new download task
  redrive --dlq send|download        move every message of that DLQ back to its queue

Pipeline (operator commands):
  --stack NAME         a deployed pipeline's CloudFormation stack (or MESH_PIPELINE_STACK=NAME[,NAME]); repeat
                       it for a pipeline deployed as several stacks. Region and credentials: the usual AWS
                       settings (AWS_REGION, AWS_PROFILE, ...)
  --local              the local pipeline of npm start: the default when no stack is given and
                       .local/pipeline.json exists
  --local-file FILE    the local pipeline described by FILE

Connection (flag, or environment variable):
  --url URL            MESH_URL          base URL, or
  --env NAME           MESH_ENV          integration | deployment | production
  --mailbox ID         MESH_MAILBOX
  --password P         MESH_PASSWORD
  --shared-key K       MESH_SHARED_KEY
  --cert FILE          MESH_CLIENT_CERT  client certificate (PEM)
  --key FILE           MESH_CLIENT_KEY   client private key (PEM)
  --key-passphrase P   MESH_CLIENT_KEY_PASSPHRASE
  --ca FILE            MESH_CA_CERT      CA chain that signs the server certificate (PEM)

Output:
  --json               print one JSON document for scripts
  --help               this text
`;
