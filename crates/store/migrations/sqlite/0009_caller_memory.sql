-- Caller memory (SPEC §7): per tenant and per caller (`user_id`, the caller's E.164 number).

-- Free-text facts with their source and time. `embedding` is the text's MiniLM vector, stored
-- as 384 signed bytes (each component × 127, rounded; ADR 0010) — NULL when no embedder was
-- loaded, and then relevance falls back to word overlap.
CREATE TABLE memories (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    content    TEXT NOT NULL,
    source     TEXT NOT NULL,
    call_id    TEXT,
    embedding  BLOB,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX memories_by_caller ON memories (tenant_id, user_id, created_at);
CREATE INDEX memories_by_call ON memories (tenant_id, call_id);

-- One summary per processed call; `call_id` is the CallSid for live calls (or the id a
-- process-call request names), so processing a call twice changes nothing.
CREATE TABLE call_summaries (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    call_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    thread_id  TEXT NOT NULL,
    summary    TEXT NOT NULL,
    topics     TEXT NOT NULL,
    turns      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX call_summaries_by_caller ON call_summaries (tenant_id, user_id, created_at);

-- One profile per tenant × caller; `fields` holds the template's caller-profile fields (JSON).
CREATE TABLE caller_profiles (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    user_id    TEXT NOT NULL,
    fields     TEXT NOT NULL,
    quick_bio  TEXT NOT NULL,
    calls      BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE personality_metrics (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    call_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    sentiment     DOUBLE PRECISION NOT NULL,
    talkativeness DOUBLE PRECISION NOT NULL,
    formality     DOUBLE PRECISION NOT NULL,
    patience      DOUBLE PRECISION NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX personality_metrics_by_caller ON personality_metrics (tenant_id, user_id);

-- Running averages over the caller's personality_metrics rows (recomputed from them, so a call
-- processed twice is counted once).
CREATE TABLE personality_averages (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    user_id       TEXT NOT NULL,
    calls         BIGINT NOT NULL,
    sentiment     DOUBLE PRECISION NOT NULL,
    talkativeness DOUBLE PRECISION NOT NULL,
    formality     DOUBLE PRECISION NOT NULL,
    patience      DOUBLE PRECISION NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
