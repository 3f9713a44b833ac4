-- The health checker: per-gateway results and schedule, and the leadership
-- record whose term fences every write of the checker.
ALTER TABLE "gateway"
    ADD COLUMN "last_latency_ms" INTEGER,
    ADD COLUMN "next_check_at" TIMESTAMPTZ(3),
    ADD COLUMN "refresh_interval_ms" INTEGER,
    ADD COLUMN "catalog_synced_at" TIMESTAMPTZ(3);

-- Registered gateways were synced when they were registered or last refreshed.
UPDATE "gateway" SET "catalog_synced_at" = COALESCE("last_seen_at", "updated_at");

-- One row per background role. `term` only grows: each new leader takes the
-- next one, and the checker's writes are refused once a newer term exists.
CREATE TABLE "leadership" (
    "name" TEXT NOT NULL,
    "term" BIGINT NOT NULL DEFAULT 0,
    "holder" TEXT,
    "since" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "last_sweep" JSONB,
    "next_sweep_at" TIMESTAMPTZ(3),

    CONSTRAINT "leadership_pkey" PRIMARY KEY ("name")
);

INSERT INTO "leadership" ("name") VALUES ('health-checker');

-- The fence. Called in the statement that writes, it holds a share lock on the
-- leadership row until the transaction ends, so a new term cannot begin
-- between the check and the commit; a stale term is an error, not a no-op,
-- so the writer learns it has been deposed.
CREATE FUNCTION "leader_term_is_current"(p_name TEXT, p_term BIGINT) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    current_term BIGINT;
BEGIN
    SELECT "term" INTO current_term FROM "leadership" WHERE "name" = p_name FOR SHARE;
    IF current_term IS NULL OR p_term < current_term THEN
        RAISE EXCEPTION 'leadership term % of % is stale: term % has begun', p_term, p_name, current_term
            USING ERRCODE = 'MF001';
    END IF;
    RETURN TRUE;
END
$$;
