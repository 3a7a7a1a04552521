-- Calls: one row per accepted recording (or live call). The audio and provider metadata are in
-- object storage (input/<t>/audio/<id>.<ext>, input/<t>/meta/<id>.json) before the row exists.
-- A tenant never gets two calls for the same provider recording id or the same audio bytes.
CREATE TABLE calls (
    tenant_id             TEXT NOT NULL REFERENCES tenants (id),
    id                    TEXT NOT NULL,
    source                TEXT NOT NULL,
    provider_recording_id TEXT,
    content_sha256        TEXT NOT NULL,
    audio_format          TEXT NOT NULL,
    audio_bytes           BIGINT NOT NULL,
    meta                  TEXT NOT NULL,
    status                TEXT NOT NULL,
    failure_stage         TEXT,
    failure_reason        TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, content_sha256),
    UNIQUE (tenant_id, provider_recording_id)
);
CREATE INDEX calls_tenant_created ON calls (tenant_id, created_at);

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));
