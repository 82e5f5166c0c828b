import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseWorkflowFilter } from '../../../local/mesh-server/workflow-filter.js';

const WORKFLOWS = ['PATH_RESULTS', 'PATH_RESULTS_ACK', 'RAD_REPORT', 'XPATH'];
const matching = (filter: string) => WORKFLOWS.filter(parseWorkflowFilter(filter));

describe('inbox workflow_filter', () => {
  test('matches a workflow id exactly', () => {
    assert.deepEqual(matching('PATH_RESULTS'), ['PATH_RESULTS']);
  });

  test('excludes an exact workflow id with a leading !', () => {
    assert.deepEqual(matching('!PATH_RESULTS'), ['PATH_RESULTS_ACK', 'RAD_REPORT', 'XPATH']);
  });

  test('matches a prefix with a trailing *', () => {
    assert.deepEqual(matching('PATH*'), ['PATH_RESULTS', 'PATH_RESULTS_ACK']);
  });

  test('excludes a prefix with ! and a trailing *', () => {
    assert.deepEqual(matching('!PATH*'), ['RAD_REPORT', 'XPATH']);
  });

  test('matches a substring between two *', () => {
    assert.deepEqual(matching('*PATH*'), ['PATH_RESULTS', 'PATH_RESULTS_ACK', 'XPATH']);
  });

  test('excludes business acks with !*_ACK*', () => {
    assert.deepEqual(matching('!*_ACK*'), ['PATH_RESULTS', 'RAD_REPORT', 'XPATH']);
  });
});
