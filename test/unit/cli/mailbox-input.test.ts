import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UsageError } from '../../../cli/errors.js';
import { mailboxSettingsFromFlags, parseRoute, parseSeconds } from '../../../cli/mailbox-input.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailbox-input-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('mailbox add settings from flags', () => {
  test('a route is PREFIX=TO:WORKFLOW, its prefix under the mailbox outbound folder', async () => {
    const settings = await mailboxSettingsFromFlags('X26ABC1', {
      route: ['results/=X26ABC2:PATH_RESULTS', 'outbound/X26ABC1/reports/=:PATH_REPORTS'],
      'poll-interval': '10m',
      'expect-inbound-hours': '24',
    });

    assert.deepEqual(settings, {
      id: 'X26ABC1',
      routes: [
        { prefix: 'outbound/X26ABC1/results/', to: 'X26ABC2', workflowId: 'PATH_RESULTS' },
        { prefix: 'outbound/X26ABC1/reports/', workflowId: 'PATH_REPORTS' },
      ],
      pollIntervalSeconds: 600,
      expectedInboundHours: 24,
    });
  });

  test('with no flags, the defaults: no routes, polled every five minutes', async () => {
    assert.deepEqual(await mailboxSettingsFromFlags('X26ABC1', {}), {
      id: 'X26ABC1',
      routes: [],
      pollIntervalSeconds: 300,
    });
  });

  test('an invalid id and routes are one error listing every problem', async () => {
    await assert.rejects(
      mailboxSettingsFromFlags('x26abc1', {
        route: ['no-equals-sign', 'a/=lower:WF', 'outbound/OTHER/x/=X26ABC2:WF', 'b/=:'],
        'poll-interval': '60',
      }),
      (error: Error) => {
        assert.ok(error instanceof UsageError);
        const problems = error.message.replace(/^invalid mailbox x26abc1: /, '').split('; ');
        assert.deepEqual(problems, [
          'id: a MESH mailbox id is 3 to 20 uppercase letters and digits',
          '--route 1 "no-equals-sign": expected PREFIX=TO:WORKFLOW (e.g. results/=X26ABC2:PATH_RESULTS)',
          '--route 2 "a/=lower:WF": recipient "lower" is not a MESH mailbox id (3 to 20 uppercase letters and digits)',
          '--route 3 "outbound/OTHER/x/=X26ABC2:WF": a route of mailbox x26abc1 must have a prefix under outbound/x26abc1/',
          '--route 4 "b/=:": neither TO nor WORKFLOW given',
          '--poll-interval (seconds): Too small: expected number to be >=300',
        ]);
        return true;
      },
    );
  });

  test('--settings FILE gives the settings as JSON, for this mailbox only', async () => {
    const file = join(dir, 'settings.json');
    await writeFile(
      file,
      JSON.stringify({ routes: [{ prefix: 'outbound/X26ABC1/a/', to: 'X26ABC2', subject: 'S' }] }),
    );

    const settings = await mailboxSettingsFromFlags('X26ABC1', { settings: file });

    assert.equal(settings.routes[0]?.subject, 'S');
    await assert.rejects(
      mailboxSettingsFromFlags('X26ABC9', { settings: file }),
      /prefix under outbound\/X26ABC9\//,
    );
    await writeFile(file, JSON.stringify({ id: 'X26ABC2' }));
    await assert.rejects(
      mailboxSettingsFromFlags('X26ABC1', { settings: file }),
      /is for mailbox X26ABC2, not X26ABC1/,
    );
    await assert.rejects(
      mailboxSettingsFromFlags('X26ABC1', { settings: file, route: ['a=B:C'] }),
      /drop --route/,
    );
  });

  test('routes and durations parse as documented', () => {
    assert.deepEqual(parseRoute('X26ABC1', 'a=b=X26ABC2:WF').route, {
      prefix: 'outbound/X26ABC1/a=b',
      to: 'X26ABC2',
      workflowId: 'WF',
    });
    assert.deepEqual(
      [parseSeconds('300'), parseSeconds('5m'), parseSeconds('1h'), parseSeconds('soon')],
      [300, 300, 3600, undefined],
    );
  });
});
