import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MailboxSettingsError,
  parseMailboxSettings,
  type MailboxSettings,
} from '../../../../shared/registry/mailbox.js';

/** The problems parseMailboxSettings gives for `value`, or fails the test if it accepts it. */
function problemsOf(value: unknown): readonly string[] {
  try {
    parseMailboxSettings(value);
  } catch (error) {
    assert.ok(error instanceof MailboxSettingsError, `expected MailboxSettingsError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`settings were accepted: ${JSON.stringify(value)}`);
}

function hasProblem(problems: readonly string[], path: string, pattern: RegExp): boolean {
  return problems.some((p) => p.startsWith(`${path}: `) && pattern.test(p));
}

describe("a mailbox's settings", () => {
  test('take a 5 minute poll interval, no routes and no inbound window when given only an id', () => {
    const settings = parseMailboxSettings({ id: 'X26ABC1' });

    assert.equal(settings.expectedInboundHours, undefined);
    assert.deepEqual(settings, { id: 'X26ABC1', routes: [], pollIntervalSeconds: 300 });
  });

  test('keep every route under the mailbox folder, with its defaults, and an inbound window', () => {
    const input: MailboxSettings = {
      id: 'X26ABC1',
      routes: [
        { prefix: 'outbound/X26ABC1/', to: 'X26XYZ9' },
        {
          prefix: 'outbound/X26ABC1/pathology/',
          to: 'X26XYZ8',
          workflowId: 'PATH_RESULTS',
          subject: 'Results',
          contentType: 'text/csv',
        },
      ],
      pollIntervalSeconds: 3600,
      expectedInboundHours: 26,
    };

    assert.deepEqual(parseMailboxSettings(input), input);
  });

  test('accept poll intervals of exactly 5 minutes and exactly a day', () => {
    assert.equal(parseMailboxSettings({ id: 'X26ABC1', pollIntervalSeconds: 300 }).pollIntervalSeconds, 300);
    assert.equal(
      parseMailboxSettings({ id: 'X26ABC1', pollIntervalSeconds: 86_400 }).pollIntervalSeconds,
      86_400,
    );
  });

  test('refuse a poll interval under 5 minutes, over a day, or not a whole number of seconds', () => {
    for (const pollIntervalSeconds of [0, 299, 86_401, 300.5]) {
      const problems = problemsOf({ id: 'X26ABC1', pollIntervalSeconds });

      assert.equal(problems.length, 1, `${pollIntervalSeconds}: ${problems.join('; ')}`);
      assert.ok(problems[0]?.startsWith('pollIntervalSeconds: '), problems[0]);
    }
  });

  test('refuse an id that is not 3 to 20 uppercase letters and digits', () => {
    for (const id of ['x26abc1', 'X2', 'X'.repeat(21), 'X26-ABC1', 'X26ABC1/../X26XYZ9', '']) {
      const problems = problemsOf({ id });

      assert.ok(hasProblem(problems, 'id', /3 to 20 uppercase letters and digits/), `${id}: ${problems}`);
    }
  });

  test('refuse a route whose prefix is not under outbound/{id}/, naming the route', () => {
    const cases = [
      'outbound/X26XYZ9/',
      'outbound/X26ABC1',
      'outbound/X26ABC10/',
      'inbound/X26ABC1/',
      'X26ABC1/',
      '/outbound/X26ABC1/',
    ];
    for (const prefix of cases) {
      const problems = problemsOf({
        id: 'X26ABC1',
        routes: [{ prefix: 'outbound/X26ABC1/ok/' }, { prefix }],
      });

      assert.deepEqual(
        problems,
        ['routes.1.prefix: a route of mailbox X26ABC1 must have a prefix under outbound/X26ABC1/'],
        prefix,
      );
    }
  });

  test('refuse empty strings anywhere in a route', () => {
    for (const field of ['prefix', 'to', 'workflowId', 'subject', 'contentType'] as const) {
      const route = { prefix: 'outbound/X26ABC1/', to: 'X26XYZ9', [field]: '' };

      const problems = problemsOf({ id: 'X26ABC1', routes: [route] });

      assert.ok(hasProblem(problems, `routes.0.${field}`, /expected string to have >=1 characters/), field);
    }
  });

  test('refuse an inbound window that is not a positive number of hours up to a year', () => {
    for (const expectedInboundHours of [0, -1, 24 * 366 + 1]) {
      const problems = problemsOf({ id: 'X26ABC1', expectedInboundHours });

      assert.equal(problems.length, 1);
      assert.ok(problems[0]?.startsWith('expectedInboundHours: '), problems[0]);
    }
  });

  test('list every problem at once, in the error message too', () => {
    let caught: unknown;
    try {
      parseMailboxSettings({
        id: 'X26ABC1',
        pollIntervalSeconds: 60,
        expectedInboundHours: 0,
        routes: [{ prefix: 'outbound/X26XYZ9/', to: '' }],
      });
    } catch (error) {
      caught = error;
    }

    assert.ok(caught instanceof MailboxSettingsError);
    const problems = caught.problems;
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.ok(hasProblem(problems, 'pollIntervalSeconds', />=300/));
    assert.ok(hasProblem(problems, 'expectedInboundHours', />0/));
    assert.ok(hasProblem(problems, 'routes.0.to', />=1 characters/));
    assert.ok(hasProblem(problems, 'routes.0.prefix', /under outbound\/X26ABC1\//));
    for (const problem of problems) assert.ok(caught.message.includes(problem), problem);
    assert.equal(caught.name, 'MailboxSettingsError');
  });

  test('list a route outside the mailbox folder even when another field has the wrong type', () => {
    // An operator's JSON file with a quoted number and a mistyped prefix should show both mistakes in one go.
    const problems = problemsOf({
      id: 'X26ABC1',
      pollIntervalSeconds: '600',
      routes: [{ prefix: 'outbound/X26XYZ9/' }],
    });

    assert.ok(hasProblem(problems, 'pollIntervalSeconds', /expected number/), problems.join('; '));
    assert.ok(hasProblem(problems, 'routes.0.prefix', /under outbound\/X26ABC1\//), problems.join('; '));
  });

  test('refuse what is not an object at all, without throwing anything else', () => {
    for (const value of [null, undefined, 'X26ABC1', 42, []]) {
      assert.ok(problemsOf(value).length >= 1);
    }
  });
});
