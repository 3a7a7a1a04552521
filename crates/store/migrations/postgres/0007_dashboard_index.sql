-- The dashboard's aggregates over a tenant and a start-time range read only these columns, so
-- they scan this index instead of the wide result rows (issue 6, P5).
CREATE INDEX call_results_dashboard ON call_results
    (tenant_id, started_at, agent_id, direction, sentiment_label, duration_seconds,
     agent_sentiment_score, qa_overall_pass);
