-- The durable job queue (ADR 0005). One row per (tenant, kind, call): never a second job for the
-- same call and stage. `state`: ready → running (leased) → done, or back to ready with a later
-- run_at after a failure, or dead after the last attempt.
CREATE TABLE jobs (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    call_id      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('ready', 'running', 'done', 'dead')),
    attempts     BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at       BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT NOT NULL,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, call_id)
);
-- Claiming looks across tenants by due time; done and dead rows are outside both indexes.
CREATE INDEX jobs_ready ON jobs (run_at) WHERE state = 'ready';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';

-- Tenant isolation as everywhere, plus one narrow exception: a claim transaction (opened only by
-- the store's queue module) sets app.queue_claim to see due jobs of every tenant. It reads only
-- queue bookkeeping; the job then runs in its own tenant's transaction.
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')
           OR current_setting('app.queue_claim', true) = 'on')
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')
           OR current_setting('app.queue_claim', true) = 'on');
