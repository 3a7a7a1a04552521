-- Per-day rollups of the published call rows (issue 6, P5; ADR 0011). The overview and the agent
-- figures read these instead of a tenant's million result rows: a 90-day overview sums ~1,500
-- rows of the first table, the agent list ~45,000 of the second. The publish transaction keeps
-- them equal to the sums over call_results (it subtracts a call's old row and adds its new one).
-- Days are UTC days: started_at / 86 400 000.
CREATE TABLE call_day_rollups (
    tenant_id             TEXT NOT NULL REFERENCES tenants (id),
    day                   BIGINT NOT NULL,
    direction             TEXT NOT NULL,
    sentiment_label       TEXT NOT NULL,
    calls                 BIGINT NOT NULL,
    duration_seconds      DOUBLE PRECISION NOT NULL,
    -- The agent sentiment average is sum / calls-with-a-score (calls where the agent spoke).
    agent_sentiment_sum   DOUBLE PRECISION NOT NULL,
    agent_sentiment_calls BIGINT NOT NULL,
    qa_passed             BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, direction, sentiment_label)
);

-- The same figures per identified agent and day (calls without an agent are left out, as in the
-- agent explorer).
CREATE TABLE agent_day_rollups (
    tenant_id             TEXT NOT NULL REFERENCES tenants (id),
    day                   BIGINT NOT NULL,
    agent_id              TEXT NOT NULL,
    calls                 BIGINT NOT NULL,
    duration_seconds      DOUBLE PRECISION NOT NULL,
    agent_sentiment_sum   DOUBLE PRECISION NOT NULL,
    agent_sentiment_calls BIGINT NOT NULL,
    qa_passed             BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, agent_id)
);
CREATE INDEX agent_day_rollups_agent ON agent_day_rollups (tenant_id, agent_id, day);

INSERT INTO call_day_rollups
SELECT tenant_id, started_at / 86400000, direction, sentiment_label, COUNT(*), SUM(duration_seconds),
       COALESCE(SUM(agent_sentiment_score), 0), COUNT(agent_sentiment_score), SUM(qa_overall_pass)
FROM call_results
GROUP BY tenant_id, started_at / 86400000, direction, sentiment_label;

INSERT INTO agent_day_rollups
SELECT tenant_id, started_at / 86400000, agent_id, COUNT(*), SUM(duration_seconds),
       COALESCE(SUM(agent_sentiment_score), 0), COUNT(agent_sentiment_score), SUM(qa_overall_pass)
FROM call_results WHERE agent_id IS NOT NULL
GROUP BY tenant_id, started_at / 86400000, agent_id;

ALTER TABLE call_day_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_day_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON call_day_rollups
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));

ALTER TABLE agent_day_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_day_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agent_day_rollups
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));
