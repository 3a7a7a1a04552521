-- The caller directory (SPEC §8 "caller profiles"): a tenant's callers, most recently heard
-- from first.
CREATE INDEX caller_profiles_by_last_seen ON caller_profiles (tenant_id, last_seen);
