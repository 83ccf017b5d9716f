/** What state-commit-child.ts writes, shared with its test. */
export const STATE_COMMIT_SERVICE = "Counter";
/** Keys the child's writes cycle through. */
export const STATE_COMMIT_KEYS = 40;
