/**
 * Asserts an invariant of the state machine. A failure is a bug (or a corrupt log/snapshot), never a
 * user error: the processor must stop the partition and recover from its last snapshot.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`partition state invariant violated: ${message}`);
}
