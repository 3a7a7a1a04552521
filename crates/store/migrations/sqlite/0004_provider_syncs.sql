-- Provider ingestion state per tenant × provider: the watermark (the provider's `started_at` up
-- to which every recording is stored) and a lease so one node syncs a tenant × provider at a time.
CREATE TABLE provider_syncs (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    provider    TEXT NOT NULL,
    watermark   TEXT,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);

-- Sync history: one row per run, with counts and the per-recording errors (JSON, capped).
CREATE TABLE sync_runs (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    id          TEXT NOT NULL,
    provider    TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    fetched     BIGINT NOT NULL,
    skipped     BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    error       TEXT,
    errors      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sync_runs_tenant_provider_started ON sync_runs (tenant_id, provider, started_at);
