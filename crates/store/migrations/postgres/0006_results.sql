-- Pipeline results (SPEC §4.5). A call remembers how its last failure happened and which result
-- version is current; a re-analysis bumps the version and the old final record stays in storage.
ALTER TABLE calls ADD COLUMN failure_attempts BIGINT;
ALTER TABLE calls ADD COLUMN result_version BIGINT NOT NULL DEFAULT 1;

-- The flat call row of the current result version, for the dashboard's queries. `row_json` holds
-- the whole row, with the tenant's qa_<rule> columns and extra metadata columns.
CREATE TABLE call_results (
    tenant_id                TEXT NOT NULL REFERENCES tenants (id),
    call_id                  TEXT NOT NULL,
    version                  BIGINT NOT NULL,
    started_at               BIGINT NOT NULL,
    ended_at                 BIGINT NOT NULL,
    duration_seconds         DOUBLE PRECISION NOT NULL,
    direction                TEXT NOT NULL,
    calling_party            TEXT,
    called_party             TEXT,
    agent_id                 TEXT,
    sentiment_label          TEXT NOT NULL,
    sentiment_score          DOUBLE PRECISION NOT NULL,
    agent_sentiment_score    DOUBLE PRECISION,
    customer_sentiment_score DOUBLE PRECISION,
    positive_score           DOUBLE PRECISION NOT NULL,
    neutral_score            DOUBLE PRECISION NOT NULL,
    negative_score           DOUBLE PRECISION NOT NULL,
    mixed_score              DOUBLE PRECISION NOT NULL,
    transcript_word_count    BIGINT NOT NULL,
    utterance_count          BIGINT NOT NULL,
    agent_talk_ratio         DOUBLE PRECISION,
    non_talk_seconds         DOUBLE PRECISION NOT NULL,
    interruptions            BIGINT NOT NULL,
    qa_overall_pass          BIGINT NOT NULL,
    qa_score                 DOUBLE PRECISION NOT NULL,
    summary                  TEXT NOT NULL,
    model_tokens             BIGINT NOT NULL,
    row_json                 TEXT NOT NULL,
    updated_at               BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX call_results_tenant_started ON call_results (tenant_id, started_at);
CREATE INDEX call_results_tenant_agent ON call_results (tenant_id, agent_id, started_at);

-- One row per call × QA rule. `passed` is 1, 0, or NULL when the rule did not apply.
CREATE TABLE qa_results (
    tenant_id         TEXT NOT NULL REFERENCES tenants (id),
    call_id           TEXT NOT NULL,
    rule_id           TEXT NOT NULL,
    rule_name         TEXT NOT NULL,
    passed            BIGINT,
    reason            TEXT NOT NULL,
    evidence_start_ms BIGINT,
    started_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, call_id, rule_id)
);
CREATE INDEX qa_results_tenant_started ON qa_results (tenant_id, started_at);

ALTER TABLE call_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON call_results
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

ALTER TABLE qa_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE qa_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON qa_results
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));
