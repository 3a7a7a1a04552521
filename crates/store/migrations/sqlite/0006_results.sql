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
    duration_seconds         REAL NOT NULL,
    direction                TEXT NOT NULL,
    calling_party            TEXT,
    called_party             TEXT,
    agent_id                 TEXT,
    sentiment_label          TEXT NOT NULL,
    sentiment_score          REAL NOT NULL,
    agent_sentiment_score    REAL,
    customer_sentiment_score REAL,
    positive_score           REAL NOT NULL,
    neutral_score            REAL NOT NULL,
    negative_score           REAL NOT NULL,
    mixed_score              REAL NOT NULL,
    transcript_word_count    BIGINT NOT NULL,
    utterance_count          BIGINT NOT NULL,
    agent_talk_ratio         REAL,
    non_talk_seconds         REAL NOT NULL,
    interruptions            BIGINT NOT NULL,
    qa_overall_pass          BIGINT NOT NULL,
    qa_score                 REAL NOT NULL,
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
