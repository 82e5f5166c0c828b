import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidRequestError } from '../../../../shared/console/errors.js';
import { CONSOLE_MAX_FILE_BYTES, planUpload } from '../../../../shared/console/send.js';

const good = {
  recipient: 'x26abc2',
  workflowId: 'PATH_RESULTS',
  subject: 'November results',
  fileName: 'results (final).csv',
  size: 139,
  contentType: 'text/csv',
};

function problemsOf(body: unknown): readonly string[] {
  try {
    planUpload('X26ABC1', body, new Date('2026-12-03T10:00:00Z'));
  } catch (error) {
    assert.ok(error instanceof InvalidRequestError);
    return error.problems;
  }
  assert.fail('the request was accepted');
}

describe('planning a console upload', () => {
  test('puts the file under the mailbox outbound prefix, with a key that says nothing of its name', () => {
    const plan = planUpload('X26ABC1', good, new Date('2026-12-03T10:00:00Z'));
    assert.match(plan.key, /^outbound\/X26ABC1\/console\/2026-12-03\/[0-9a-f-]{36}\.csv$/);
    assert.doesNotMatch(plan.key, /results/);
    assert.equal(plan.size, 139);
    assert.equal(plan.contentType, 'text/csv');
  });

  test('carries the addressing as URL-encoded mex- metadata, as the pipeline reads it', () => {
    const plan = planUpload('X26ABC1', good);
    assert.deepEqual(plan.metadata, {
      'mex-to': 'x26abc2',
      'mex-workflowid': 'PATH_RESULTS',
      'mex-subject': 'November%20results',
      'mex-filename': 'results%20(final).csv',
      'mex-content-type': 'text%2Fcsv',
    });
  });

  test('refuses an empty file and one over 100 MB', () => {
    assert.deepEqual(problemsOf({ ...good, size: 0 }), [
      'The selected file is empty: MESH does not accept an empty message',
    ]);
    assert.deepEqual(problemsOf({ ...good, size: CONSOLE_MAX_FILE_BYTES + 1 }), [
      'The selected file must be smaller than 100 MB',
    ]);
    assert.doesNotThrow(() => planUpload('X26ABC1', { ...good, size: CONSOLE_MAX_FILE_BYTES }));
  });

  test('refuses a malformed recipient and workflow with every reason, in the words of the page', () => {
    const problems = problemsOf({ ...good, recipient: 'not a mailbox', workflowId: 'bad workflow?' });
    assert.deepEqual(problems, [
      'The recipient is not a MESH mailbox id (3 to 20 letters and digits)',
      'The workflow ID may hold only letters, digits, _ . and -',
    ]);
  });

  test('refuses a request that is not a send request at all, naming each missing field', () => {
    const problems = problemsOf({ size: 'big' });
    assert.equal(problems.length, 4);
    assert.ok(problems.some((p) => p.startsWith('recipient:')));
    assert.ok(problems.some((p) => p.startsWith('size:')));
  });

  test('a file name with a path is refused, as the pipeline would', () => {
    assert.deepEqual(problemsOf({ ...good, fileName: '../etc/passwd' }), [
      'The file name must be a bare file name, not a path',
    ]);
  });
});
