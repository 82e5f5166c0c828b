import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ForbiddenError } from '../../../../shared/console/errors.js';
import { requireMailbox, requireOperator, userFromClaims } from '../../../../shared/console/identity.js';

describe('roles and mailbox grants from groups', () => {
  test('mailbox groups grant mailboxes; operators is a role; anything else is ignored', () => {
    const user = userFromClaims(
      {
        sub: 'abc',
        'cognito:username': 'alice',
        'cognito:groups': ['mailbox:X26ABC2', 'operators', 'mailbox:X26ABC1', 'mailbox:lower', 'admins', 7],
      },
      'cognito:groups',
    );
    assert.deepEqual(user, {
      subject: 'abc',
      name: 'alice',
      operator: true,
      mailboxes: ['X26ABC1', 'X26ABC2'],
    });
  });

  test('a user with no groups is a user of no mailbox', () => {
    const user = userFromClaims({ sub: 'abc', email: 'a@example.nhs.uk' }, 'groups');
    assert.deepEqual(user, { subject: 'abc', name: 'a@example.nhs.uk', operator: false, mailboxes: [] });
  });

  test('a mailbox outside the groups is refused, naming the group that would grant it', () => {
    const user = userFromClaims({ sub: 'abc', groups: ['mailbox:X26ABC1'] }, 'groups');
    assert.doesNotThrow(() => requireMailbox(user, 'X26ABC1'));
    assert.throws(
      () => requireMailbox(user, 'X26ABC2'),
      (e: unknown) =>
        e instanceof ForbiddenError && e.status === 403 && e.message.includes('"mailbox:X26ABC2"'),
    );
    assert.throws(() => requireOperator(user), /group "operators"/);
  });
});
