//! The binary, driven as a user would: administration commands, layered configuration, and a
//! running server whose logs must never contain a credential.

mod common;
#[path = "../../server/tests/api/fixtures.rs"]
mod fixtures;

use common::ok;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const PLANTED_PASSWORD: &str = "planted-password-7f3a9c";
const PLANTED_CREDENTIAL: &str = "planted-credential-51c0e2";

fn switchboard(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data)
        .output()
        .expect("run switchboard")
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    fn start_with(data: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env_clear()
            .envs(env.iter().copied())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SWITCHBOARD_DATA_DIR", data)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(data.join("server.log")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(switchboard(
        data,
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme",
            "--admin-email",
            "a@acme.test",
            "--admin-password",
            PLANTED_PASSWORD,
        ],
    ));
    let token = ok(switchboard(
        data,
        &["token", "create", "--tenant", "acme", "--role", "admin"],
    ))
    .trim()
    .to_owned();
    assert!(token.starts_with("sbt_acme_"), "{token}");

    let server = Server::start(data);
    let client = reqwest::Client::new();
    let me = client
        .get(format!("{}/api/v1/me", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let forged = format!("{token}0");
    let refused = client
        .get(format!("{}/api/v1/users", server.url))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let in_query = client
        .get(format!("{}/api/v1/me?access_token={token}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(in_query.status(), 401);
    let login = client
        .post(format!("{}/api/v1/auth/login", server.url))
        .json(&serde_json::json!({"tenant": "acme", "email": "a@acme.test", "password": PLANTED_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let with_cookie = client
        .get(format!("{}/api/v1/me", server.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 200);
    let session_secret = cookie.trim_start_matches("sb_session=").to_owned();
    let credential = client
        .put(format!("{}/api/v1/credentials/oak", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"client_secret": PLANTED_CREDENTIAL}))
        .send()
        .await
        .unwrap();
    assert_eq!(credential.status(), 200);
    assert!(
        !credential
            .text()
            .await
            .unwrap()
            .contains(PLANTED_CREDENTIAL)
    );
    drop(server);

    let logs = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(
        logs.contains("\"http.route\":\"/api/v1/me\""),
        "the request was logged: {logs}"
    );
    assert!(logs.contains("\"tenant.id\":\"acme\""), "with its tenant");
    let secret_part = token.rsplit('_').next().unwrap();
    for planted in [
        token.as_str(),
        secret_part,
        PLANTED_PASSWORD,
        session_secret.as_str(),
    ] {
        assert!(!logs.contains(planted), "a secret reached the log");
    }
}

#[test]
fn a_database_password_never_appears_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["migrate"])
        .env_clear()
        .env(
            "DATABASE_URL",
            "postgres://app:planted-db-secret@127.0.0.1:1/switchboard",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("127.0.0.1:1"),
        "the error names the server: {stderr}"
    );
    assert!(!stderr.contains("planted-db-secret"), "{stderr}");
    drop(dir);
}

#[test]
fn tenants_users_and_tokens_are_managed_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let created = ok(switchboard(
        data,
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme Corp",
            "--admin-email",
            "a@acme.test",
        ],
    ));
    assert!(
        created.contains("admin password (shown once):"),
        "{created}"
    );
    ok(switchboard(
        data,
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            "m@acme.test",
            "--role",
            "member",
            "--password",
            "member-password",
        ],
    ));
    ok(switchboard(
        data,
        &[
            "user",
            "create",
            "--platform-admin",
            "--email",
            "ops@platform.test",
            "--password",
            "ops-password",
        ],
    ));
    let listed = ok(switchboard(data, &["tenant", "list"]));
    assert!(
        listed.contains("acme") && listed.contains("active") && listed.contains("Acme Corp"),
        "{listed}"
    );

    ok(switchboard(data, &["tenant", "suspend", "acme"]));
    assert!(ok(switchboard(data, &["tenant", "list"])).contains("suspended"));
    ok(switchboard(data, &["tenant", "resume", "acme"]));

    let token_out = switchboard(
        data,
        &["token", "create", "--tenant", "acme", "--role", "member"],
    );
    let stderr = String::from_utf8_lossy(&token_out.stderr).into_owned();
    let id = stderr.split_whitespace().nth(3).unwrap().to_owned();
    ok(token_out);
    assert!(
        ok(switchboard(
            data,
            &["token", "revoke", "--tenant", "acme", &id]
        ))
        .contains("revoked")
    );
    let platform_token = ok(switchboard(data, &["token", "create", "--platform"]));
    assert!(platform_token.trim().starts_with("sbp_"));

    let refused = switchboard(data, &["tenant", "delete", "acme"]);
    assert!(!refused.status.success(), "delete needs --yes");
    let deleted = ok(switchboard(data, &["tenant", "delete", "acme", "--yes"]));
    assert!(deleted.contains("users: 2 rows"), "{deleted}");
    assert!(!ok(switchboard(data, &["tenant", "list"])).contains("acme"));

    let bad = switchboard(
        data,
        &[
            "tenant",
            "create",
            "Bad_Id",
            "--name",
            "x",
            "--admin-email",
            "a@b.test",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid tenant id"));
}

#[test]
fn configuration_layers_file_then_environment_then_file_variables() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "switchboard_data_dir = {:?}\n",
            from_file.display().to_string()
        ),
    )
    .unwrap();
    let run = |extra: &[(&str, String)]| {
        let mut command = Command::new(BIN);
        command
            .args(["--config", config.to_str().unwrap(), "migrate"])
            .env_clear();
        for (key, value) in extra {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    ok(run(&[]));
    assert!(
        from_file.join("switchboard.db").exists(),
        "the file's data dir is used"
    );

    let from_env = dir.path().join("from-env");
    ok(run(&[(
        "SWITCHBOARD_DATA_DIR",
        from_env.display().to_string(),
    )]));
    assert!(
        from_env.join("switchboard.db").exists(),
        "the environment overrides the file"
    );

    let secret_file = dir.path().join("database-url");
    let db_path = dir.path().join("secret.db");
    std::fs::write(&secret_file, format!("sqlite://{}\n", db_path.display())).unwrap();
    ok(run(&[
        ("DATABASE_URL", "sqlite:///nonexistent/dir/x.db".into()),
        ("DATABASE_URL_FILE", secret_file.display().to_string()),
    ]));
    assert!(db_path.exists(), "DATABASE_URL_FILE wins over DATABASE_URL");

    let bad = run(&[("STORAGE_BACKEND", "floppy".into())]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("STORAGE_BACKEND"));
}

#[tokio::test]
async fn secrets_rotate_rewraps_entries_under_the_new_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let old_key = ok(switchboard(data, &["secrets", "generate-key"]))
        .trim()
        .to_owned();
    let new_key = ok(switchboard(data, &["secrets", "generate-key"]))
        .trim()
        .to_owned();
    assert_ne!(old_key, new_key);
    let with_keys = |args: &[&str], current: &str, previous: Option<&str>| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("SWITCHBOARD_DATA_DIR", data)
            .env("SWITCHBOARD_MASTER_KEY", current);
        if let Some(previous) = previous {
            command.env("SWITCHBOARD_MASTER_KEY_PREVIOUS", previous);
        }
        command.output().unwrap()
    };
    ok(with_keys(
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme",
            "--admin-email",
            "a@acme.test",
        ],
        &old_key,
        None,
    ));
    let token = ok(with_keys(
        &["token", "create", "--tenant", "acme", "--role", "admin"],
        &old_key,
        None,
    ))
    .trim()
    .to_owned();

    let server = Server::start_with(data, &[("SWITCHBOARD_MASTER_KEY", &old_key)]);
    let put = reqwest::Client::new()
        .put(format!("{}/api/v1/credentials/oak", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"client_secret": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    drop(server);

    let rotated = ok(with_keys(&["secrets", "rotate"], &new_key, Some(&old_key)));
    assert!(rotated.contains("acme: 1 secrets rewrapped"), "{rotated}");
    let again = ok(with_keys(&["secrets", "rotate"], &new_key, None));
    assert!(
        again.contains("0 secrets rewrapped"),
        "the new key alone opens everything: {again}"
    );
    for output in [&rotated, &again] {
        assert!(!output.contains(&old_key) && !output.contains(&new_key));
    }
}

#[tokio::test]
async fn import_reads_sidecars_and_csv_and_is_safe_to_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drop = dir.path().join("recordings");
    std::fs::create_dir_all(drop.join("day2")).unwrap();
    std::fs::write(drop.join("call-1.wav"), fixtures::wav(1, 300)).unwrap();
    std::fs::write(
        drop.join("call-1.json"),
        r#"{"calling_party": "+15550000001", "recording_id": "r-1"}"#,
    )
    .unwrap();
    std::fs::write(drop.join("day2/call-2.wav"), fixtures::wav(2, 300)).unwrap();
    std::fs::write(
        drop.join("metadata.csv"),
        "file,calling_party,agent\nday2/call-2.wav,+15550000002,ana@acme.test\n",
    )
    .unwrap();
    std::fs::write(drop.join("notes.txt"), "not a recording").unwrap();
    ok(switchboard(
        &data,
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme",
            "--admin-email",
            "a@acme.test",
        ],
    ));

    let first = ok(switchboard(
        &data,
        &["import", drop.to_str().unwrap(), "--tenant", "acme"],
    ));
    assert!(
        first.contains("imported 2, already present 0, failed 0"),
        "{first}"
    );
    std::fs::write(drop.join("broken.wav"), b"RIFF but not really").unwrap();
    let second = switchboard(
        &data,
        &["import", drop.to_str().unwrap(), "--tenant", "acme"],
    );
    assert!(
        !second.status.success(),
        "a failed recording fails the command"
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("imported 0, already present 2, failed 1"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("broken.wav"));

    let token = ok(switchboard(
        &data,
        &["token", "create", "--tenant", "acme", "--role", "member"],
    ))
    .trim()
    .to_owned();
    let server = Server::start(&data);
    let calls: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/calls", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len(), 2);
    let by_recording = calls
        .iter()
        .find(|c| c["provider_recording_id"] == "r-1")
        .expect("sidecar metadata");
    assert_eq!(
        by_recording["meta"]["normalised"]["calling_party"],
        "+15550000001"
    );
    let from_csv = calls
        .iter()
        .find(|c| c["meta"]["agent"] == "ana@acme.test")
        .expect("CSV metadata");
    assert_eq!(from_csv["source"], "import");
}

fn switchboard_env(data: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data)
        .envs(env.iter().copied())
        .output()
        .expect("run switchboard")
}

#[test]
fn a_simulated_call_reaches_the_tenant_receptionist_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // No embedding model here: matching is lexical; the test is about the plumbing.
    let env = [
        ("TWILIO_AUTH_TOKEN", "cli-test-token"),
        ("EMBEDDING_MODEL_DIR", "/nonexistent"),
    ];
    let created = ok(switchboard_env(
        data,
        &env,
        &[
            "tenant",
            "create",
            "joes",
            "--name",
            "Joe's",
            "--admin-email",
            "a@joes.example",
            "--admin-password",
            "pass-word-123",
            "--template",
            "plumbing-hvac",
        ],
    ));
    assert!(
        created.contains("receptionist cloned from template plumbing-hvac"),
        "{created}"
    );
    ok(switchboard_env(
        data,
        &env,
        &["tenant", "add-number", "joes", "+18005550202"],
    ));
    let taken = switchboard_env(data, &env, &["tenant", "add-number", "joes", "12345"]);
    assert!(!taken.status.success());

    let call = ok(switchboard_env(
        data,
        &env,
        &[
            "call",
            "simulate",
            "--to",
            "+18005550202",
            "--from",
            "+14155550100",
            "my kitchen drain is clogged",
            "I want to speak to a real person",
        ],
    ));
    let lines: Vec<&str> = call.lines().collect();
    assert!(lines[0].starts_with("call CA"), "{call}");
    assert_eq!(
        lines[1], "receptionist: What can we fix for you today?",
        "{call}"
    );
    assert_eq!(lines[2], "caller: my kitchen drain is clogged");
    assert_eq!(
        lines[3],
        "receptionist: We clear drains every day. Let me book a technician for you; what day works?"
    );
    assert_eq!(lines[4], "caller: I want to speak to a real person");
    // No escalation number is set: the transfer becomes a message.
    assert!(
        lines[5].starts_with("receptionist: Of course, let me connect you with our team."),
        "{call}"
    );
    assert!(
        call.trim_end().ends_with(
            "call ended (completed): handed to the pipeline and to the tenant's caller memory"
        ),
        "{call}"
    );
    assert!(!call.contains('{'), "a raw placeholder was spoken: {call}");

    // Without a token to sign with, the simulator says what to set.
    let unsigned = switchboard_env(
        data,
        &[("EMBEDDING_MODEL_DIR", "/nonexistent")],
        &["call", "simulate", "--to", "+18005550202", "hello"],
    );
    assert!(!unsigned.status.success());
    assert!(String::from_utf8_lossy(&unsigned.stderr).contains("TWILIO_AUTH_TOKEN"));
}
