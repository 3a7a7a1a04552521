-- The AI receptionist (SPEC §6, §8).

-- Global industry templates: platform-owned, one row per version; never edited in place.
CREATE TABLE templates (
    id         TEXT NOT NULL,
    version    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);

-- Which tenant owns a dialled number. Routing data of the platform (like the tenant registry):
-- the voice webhook reads it before it knows the tenant, so it has no row-level security and its
-- owner column is `tenant`, not `tenant_id`. A purge deletes a tenant's numbers explicitly.
CREATE TABLE phone_numbers (
    number     TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX phone_numbers_tenant ON phone_numbers (tenant);

-- The tenant's copy of a template plus its own settings (one JSON document). `revision` grows on
-- every change to the settings or the knowledge entries: the server's per-tenant cache of
-- prepared matchers is keyed by it.
CREATE TABLE receptionist_settings (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    body       TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id)
);

CREATE TABLE knowledge_entries (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- A live call, by Twilio CallSid; its turns are numbered, and (call, turn) is the key that
-- makes a retried webhook delivery return the stored reply instead of adding a turn.
CREATE TABLE live_calls (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    call_sid     TEXT NOT NULL,
    from_number  TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    duration_seconds BIGINT,
    PRIMARY KEY (tenant_id, call_sid)
);
CREATE INDEX live_calls_tenant_started ON live_calls (tenant_id, started_at);

CREATE TABLE live_turns (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    call_sid    TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    caller_text TEXT NOT NULL,
    reply       TEXT NOT NULL,
    source      TEXT NOT NULL,
    matched     TEXT,
    score       DOUBLE PRECISION NOT NULL,
    action      TEXT NOT NULL,
    twiml       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, call_sid, seq)
);

ALTER TABLE receptionist_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE receptionist_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON receptionist_settings
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

ALTER TABLE knowledge_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON knowledge_entries
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

ALTER TABLE live_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE live_calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON live_calls
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

ALTER TABLE live_turns ENABLE ROW LEVEL SECURITY;
ALTER TABLE live_turns FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON live_turns
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));
