-- SMS follow-ups of live calls (SPEC §6 actions; issue 7). When a call whose conversation fired a
-- `send_sms` scenario completes, the message is written here and an `sms` job is queued in the
-- same transaction; the worker sends it through Twilio's Messages API and records the outcome.
-- One message per call: the key is the call record the job names.
CREATE TABLE sms_messages (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    call_id      TEXT NOT NULL,
    call_sid     TEXT NOT NULL,
    scenario_id  TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    from_number  TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- queued, sent, skipped (a reason in `error`) or failed (the job is dead; the provider's
    -- refusal in `error`). A failed attempt that will be retried keeps `queued` with its error.
    status       TEXT NOT NULL,
    provider_sid TEXT,
    error        TEXT,
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT,
    PRIMARY KEY (tenant_id, call_id)
);

-- The live-call log shows a call's message by its CallSid (one call record per CallSid).
CREATE UNIQUE INDEX sms_messages_call_sid ON sms_messages (tenant_id, call_sid);

ALTER TABLE sms_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE sms_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_messages
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''))
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), ''));
