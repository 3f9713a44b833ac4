// Every advisory lock the control plane takes, in one place so that no two
// uses can share a key. The numbers are arbitrary constants of ours ("mcp?" in
// ASCII); PostgreSQL keeps the one-bigint and the two-int forms apart.

/** Serialises concurrent migrators (one-bigint form). */
export const MIGRATION_LOCK = 0x6d637067;

/**
 * Held from each event-log insert to its transaction's end (one-bigint form,
 * transaction level), so that events commit in sequence order (see
 * EventBus.record).
 */
export const EVENT_LOG_LOCK = 0x6d637065;

/** First keys of the two-int form: (space, key within the space). */
export const LOCK_SPACE = {
  /** One peer (URL and credentials) is registered once, whatever the worker. */
  peerFingerprint: 0x6d637066,
  /** Only one worker creates the bootstrap admin token. */
  bootstrapToken: 0x6d637062,
  /** Session locks of the workers' elected roles (LEADER_ELECTION=postgres). */
  leader: 0x6d63706c,
} as const;
