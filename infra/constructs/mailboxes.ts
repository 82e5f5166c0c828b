import {
  MAILBOX_ID_PATTERN,
  MailboxSettingsError,
  parseMailboxSettings,
  type MailboxSettingsInput,
} from '../../shared/registry/mailbox.js';
import { MAILBOX_POLLING } from '../../shared/wiring/pipeline.js';
import type { MeshMailboxProps } from './props.js';

/**
 * The seed list travels as one property of one custom resource. CloudFormation sends a custom resource's old and new
 * properties together, as an asynchronous Lambda invocation (256 KB at most), so the list is kept well under half of
 * that. Only settings that differ from the defaults are written, so a thousand plain mailboxes take about 17 KB.
 */
export const MAX_SEED_BYTES = 100_000;

const MIN_POLL_MINUTES = MAILBOX_POLLING.minIntervalSeconds / 60;
const MAX_POLL_MINUTES = MAILBOX_POLLING.maxIntervalSeconds / 60;

/** The names a cdk.json author wrote, for the registry's own field names in a problem. */
const CONTEXT_FIELD: Readonly<Record<string, string>> = {
  expectedInboundHours: 'expectInboundWithinHours',
  pollIntervalSeconds: 'pollEveryMinutes',
};

/** A configured mailbox as registry settings input: minutes become seconds, names become the registry's. */
export function settingsInput(mailbox: MeshMailboxProps): MailboxSettingsInput {
  return withoutUndefined({
    id: mailbox.id,
    routes: mailbox.routes?.length ? [...mailbox.routes] : undefined,
    pollIntervalSeconds: mailbox.pollEveryMinutes === undefined ? undefined : mailbox.pollEveryMinutes * 60,
    expectedInboundHours: mailbox.expectInboundWithinHours,
  });
}

/**
 * Checks the mailboxes to seed with the registry's own rules (parseMailboxSettings), so a configuration that synth
 * accepts is one the seeding function and `mesh mailbox add` accept too. Every problem is added, each naming its
 * mailbox and the setting as cdk.json spells it.
 */
export function checkSeedMailboxes(
  mailboxes: readonly MeshMailboxProps[] | undefined,
  problems: string[],
): void {
  if (mailboxes === undefined) return;
  if (!Array.isArray(mailboxes)) {
    problems.push('mailboxes must be a list');
    return;
  }
  const seen = new Set<string>();
  mailboxes.forEach((mailbox, index) => {
    const validId = typeof mailbox.id === 'string' && MAILBOX_ID_PATTERN.test(mailbox.id);
    const label = validId ? `mailbox ${mailbox.id}` : `mailboxes[${index}]`;
    if (!validId) {
      problems.push(
        `mailboxes[${index}].id "${String(mailbox.id)}" is not a MESH mailbox id (3 to 20 uppercase letters and digits)`,
      );
    } else if (seen.has(mailbox.id)) {
      problems.push(`mailbox ${mailbox.id} is listed twice`);
    }
    seen.add(mailbox.id);
    const minutes = mailbox.pollEveryMinutes;
    if (
      minutes !== undefined &&
      (!Number.isSafeInteger(minutes) || minutes < MIN_POLL_MINUTES || minutes > MAX_POLL_MINUTES)
    ) {
      problems.push(
        `${label}: pollEveryMinutes must be a whole number from ${MIN_POLL_MINUTES} to ${MAX_POLL_MINUTES} ` +
          `(MESH asks for at most one poll every ${MIN_POLL_MINUTES} minutes and at least one a day), not ${String(minutes)}`,
      );
    }
    try {
      parseMailboxSettings(settingsInput(mailbox));
    } catch (error) {
      if (!(error instanceof MailboxSettingsError)) throw error;
      for (const problem of error.problems) {
        // The id and the interval are reported above, in the words of the configuration.
        if (problem.startsWith('id:') || problem.startsWith('pollIntervalSeconds:')) continue;
        problems.push(`${label}: ${contextWords(problem)}`);
      }
    }
  });
  const bytes = seedPayload(mailboxes).length;
  if (bytes > MAX_SEED_BYTES) {
    problems.push(
      `mailboxes take ${bytes} bytes of the seeding request, over the ${MAX_SEED_BYTES} it allows: list fewer ` +
        'mailboxes or routes here and add the others with `mesh mailbox add`',
    );
  }
}

/**
 * The mailboxes as the seeding function reads them: a JSON list of registry settings with only the settings that
 * differ from the registry's defaults. JSON text, because CloudFormation turns every number and boolean in a custom
 * resource's properties into a string.
 */
export function seedPayload(mailboxes: readonly MeshMailboxProps[]): string {
  return JSON.stringify(
    mailboxes.map((mailbox) => {
      const input = settingsInput(mailbox);
      return input.pollIntervalSeconds === MAILBOX_POLLING.defaultIntervalSeconds
        ? { ...input, pollIntervalSeconds: undefined }
        : input;
    }),
  );
}

/** `routes.0.prefix: ...` becomes `routes[0].prefix: ...`; registry field names become the configuration's. */
function contextWords(problem: string): string {
  const colon = problem.indexOf(':');
  if (colon < 0) return problem;
  const path = problem
    .slice(0, colon)
    .split('.')
    .map((part, i) =>
      /^\d+$/.test(part) ? `[${part}]` : `${i > 0 ? '.' : ''}${CONTEXT_FIELD[part] ?? part}`,
    )
    .join('');
  return `${path}${problem.slice(colon)}`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
