import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FaultRuleError } from '../../../local/mesh-server/errors.js';
import { FaultBook, validateFaultRules, type FaultRule } from '../../../local/mesh-server/faults.js';

const unavailable = { type: 'status', status: 503 } as const;

describe('fault rules', () => {
  test('fire once by default and then let requests through', () => {
    const book = new FaultBook();
    book.set([{ endpoint: 'send', action: unavailable }]);

    const first = book.take({ endpoint: 'send', mailbox: 'X26ABC1', chunk: 1 });
    const second = book.take({ endpoint: 'send', mailbox: 'X26ABC1', chunk: 1 });

    assert.deepEqual(first, unavailable);
    assert.equal(second, undefined);
  });

  test('match only their endpoint, mailbox and chunk', () => {
    const book = new FaultBook();
    book.set([{ endpoint: 'download', mailbox: 'x26abc2', chunk: 2, times: 'always', action: unavailable }]);

    assert.equal(book.take({ endpoint: 'download', mailbox: 'X26ABC2', chunk: 1 }), undefined);
    assert.equal(book.take({ endpoint: 'download', mailbox: 'X26ABC1', chunk: 2 }), undefined);
    assert.equal(book.take({ endpoint: 'chunk', mailbox: 'X26ABC2', chunk: 2 }), undefined);
    assert.deepEqual(book.take({ endpoint: 'download', mailbox: 'X26ABC2', chunk: 2 }), unavailable);
  });

  test('with a seed fire on the same requests every run', () => {
    const rule: FaultRule = {
      endpoint: '*',
      times: 'always',
      probability: 0.3,
      seed: 42,
      action: unavailable,
    };
    const pattern = () => {
      const book = new FaultBook();
      book.set([rule]);
      return Array.from({ length: 50 }, () => (book.take({ endpoint: 'inbox' }) ? 1 : 0)).join('');
    };

    const first = pattern();
    const second = pattern();

    assert.equal(first, second);
    assert.ok(first.includes('1') && first.includes('0'));
  });

  test('count down and report how often they fired', () => {
    const book = new FaultBook();
    book.set([{ endpoint: 'ack', times: 2, action: { type: 'latency', ms: 1 } }]);

    book.take({ endpoint: 'ack' });

    assert.deepEqual(
      book.list().map(({ remaining, fired }) => ({ remaining, fired })),
      [{ remaining: 1, fired: 1 }],
    );
  });

  test('are refused with every problem listed', () => {
    const bad = [
      { endpoint: 'nowhere', action: { type: 'status', status: 99 } },
      { endpoint: 'send', times: 0, action: { type: 'reset', phase: 'sometime', afterBytes: -1 } },
      { endpoint: 'send', colour: 'red', action: { type: 'latency', ms: 5, extra: true } },
    ];

    assert.throws(
      () => validateFaultRules(bad),
      (error: unknown) => {
        assert.ok(error instanceof FaultRuleError);
        assert.deepEqual(
          error.problems.map((p) => p.split(':')[0]),
          [
            'rules[0].endpoint',
            'rules[0].action.status',
            'rules[1].times',
            'rules[1].action.phase',
            'rules[1].action.afterBytes',
            'rules[2]',
            'rules[2].action',
          ],
        );
        return true;
      },
    );
  });
});
