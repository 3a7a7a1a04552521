-- Per-tenant secrets (provider credentials, BYOK keys), encrypted with AES-256-GCM.
-- `name` is the provider (the logical key is <provider>/<tenant>); `version` counts writes and is
-- bound into the associated data with the tenant and the name; `key_id` names the master key.
CREATE TABLE secrets (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    key_id     TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    fields     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
