/**
 * The inbox `workflow_filter` query (reference §7): `WF` equals, `!WF` does not equal, `WF*` begins with,
 * `!WF*` does not begin with, `*X*` contains, `!*X*` does not contain.
 */

export type WorkflowMatcher = (workflowId: string) => boolean;

export const WORKFLOW_FILTER_MIN_LENGTH = 2;
export const WORKFLOW_FILTER_MAX_LENGTH = 255;

export function parseWorkflowFilter(filter: string): WorkflowMatcher {
  let term = filter.trim();
  const negated = term.startsWith('!');
  if (negated) term = term.slice(1);
  let test: WorkflowMatcher;
  if (term.length >= 2 && term.startsWith('*') && term.endsWith('*')) {
    const needle = term.slice(1, -1);
    test = (id) => id.includes(needle);
  } else if (term.endsWith('*')) {
    const prefix = term.slice(0, -1);
    test = (id) => id.startsWith(prefix);
  } else {
    test = (id) => id === term;
  }
  return negated ? (id) => !test(id) : test;
}
