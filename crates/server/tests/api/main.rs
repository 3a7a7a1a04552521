//! The API test suite: one binary, run once per backend. `SWITCHBOARD_TEST_BACKEND=postgres` (with
//! `SWITCHBOARD_TEST_PG_OWNER_URL` / `SWITCHBOARD_TEST_PG_APP_URL`) runs it on PostgreSQL, and
//! `SWITCHBOARD_TEST_STORAGE=s3` (with `SWITCHBOARD_TEST_S3_ENDPOINT`) on S3; the default is
//! SQLite and a local directory. `.ci/services.sh` starts both servers.

mod fixtures;
mod harness;

mod auth_sessions;
mod browser;
mod callers;
mod calls;
mod dashboard;
mod flat_files;
mod group_commit;
mod ingest;
mod isolation;
mod jwt;
mod memory;
mod mono;
mod objects;
mod pipeline;
mod platform;
mod postgres;
mod provider_sim;
mod queue;
mod reanalyse;
mod receptionist;
mod redaction;
mod secrets;
mod workers;
