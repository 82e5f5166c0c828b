/**
 * The local console's users: demo accounts with the same groups a Cognito user pool would give them. Their
 * passwords are local-only demo values (printed by `npm start`), never used anywhere else.
 */
export interface LocalUser {
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly groups: readonly string[];
}

export const LOCAL_USERS: readonly LocalUser[] = [
  {
    username: 'alice',
    password: 'alice-local',
    name: 'Alice (user of X26ABC1)',
    groups: ['mailbox:X26ABC1'],
  },
  { username: 'bob', password: 'bob-local', name: 'Bob (user of X26ABC2)', groups: ['mailbox:X26ABC2'] },
  {
    username: 'olivia',
    password: 'olivia-local',
    name: 'Olivia (operator)',
    groups: ['operators', 'mailbox:X26ABC1', 'mailbox:X26ABC2', 'mailbox:X26ABC3'],
  },
];
