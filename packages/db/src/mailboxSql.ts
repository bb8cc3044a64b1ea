/**
 * SQL fragments the mailbox run and status repositories share (internal to @exsync/db, not
 * exported from its index): which states the scheduler claims, when an organisation is stopped,
 * and the jittered next run.
 */
import { SCHEDULABLE_STATES } from '@exsync/canonical';

/** States the scheduler picks up; they match the partial index `mailboxes_due_idx` (migration 1796000000000). */
export const SCHEDULABLE = `(${SCHEDULABLE_STATES.map((s) => `'${s}'`).join(', ')})`;

/** An organisation is stopped while its credential error is not older than its last settings change (`s`: exchange_settings). */
export const ORG_STOPPED = `s.org_error_code IS NOT NULL AND (s.org_error_at IS NULL OR s.org_error_at >= s.updated_at)`;

/** `now() + interval * jitter` in SQL, jitter in [0.8, 1.2): spreads mailboxes enabled together. `param` is the interval in seconds. */
export const JITTERED_NEXT_RUN = (param: string) => `now() + make_interval(secs => ${param} * (0.8 + random() * 0.4))`;
