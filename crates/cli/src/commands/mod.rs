//! One module per subcommand.

mod call;
mod demo;
mod import;
mod ingest;
mod models;
mod samples;
mod secrets;
mod serve;
mod tenant;
mod token;
mod user;
mod worker;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::settings::Settings;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Serve(args) => {
            let settings = Settings::load(config)?;
            switchboard_server::telemetry::init(settings.log_format == "json", "info");
            let context = Context::connect(settings, !args.no_migrate).await?;
            serve::serve(context, args.addr, None).await
        }
        Command::Migrate => {
            Context::open(config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo(args) => demo::run(config, args).await,
        Command::Call(crate::cli::CallCommand::Simulate {
            to,
            from,
            url,
            utterances,
        }) => {
            call::simulate(
                Context::open(config).await?,
                call::Simulation {
                    to,
                    from,
                    url,
                    utterances,
                },
            )
            .await
        }
        Command::Tenant(command) => tenant::run(Context::open(config).await?, command).await,
        Command::User(command) => user::run(Context::open(config).await?, command).await,
        Command::Token(command) => token::run(Context::open(config).await?, command).await,
        Command::Secrets(command) => secrets::run(config, command).await,
        Command::Import { dir, tenant, csv } => {
            import::run(&Context::open(config).await?, &dir, &tenant, csv.as_deref()).await
        }
        Command::Synthetic {
            tenant,
            calls,
            days,
            agents,
            seed,
        } => {
            let context = Context::open(config).await?;
            let scope = context.tenant_scope(&tenant, "synthetic calls").await?;
            let spec = switchboard_store::synthetic::SyntheticCalls {
                calls,
                days,
                until_ms: switchboard_store::clock::now_ms(),
                agents,
                seed,
            };
            let started = std::time::Instant::now();
            let written = switchboard_store::synthetic::insert(&context.db, &scope, &spec).await?;
            println!(
                "{written} synthetic calls over {days} days and {agents} agents in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Worker {
            concurrency,
            until_idle,
        } => worker::run(Context::open(config).await?, concurrency, until_idle).await,
        Command::Ingest(command) => ingest::run(Context::open(config).await?, command).await,
        Command::Samples(crate::cli::SamplesCommand::Generate { out }) => samples::generate(&out),
        Command::Models(command) => models::run(&Settings::load(config)?, command),
        Command::Transcribe {
            file,
            json,
            no_voices,
        } => models::transcribe(&Settings::load(config)?, &file, json, !no_voices).await,
    }
}
