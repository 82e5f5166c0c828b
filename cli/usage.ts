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
