//! `switchboard`: one binary for every role (server, migrations, administration, demo).

mod cli;
mod commands;
mod context;
mod malloc_arenas;
mod settings;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    // Read again by the command, which reports a bad configuration.
    let settings = settings::Settings::load(cli.config.as_deref()).ok();
    let threads = switchboard_engines::model_threads::for_workers(
        pipeline_workers(&cli.command, settings.as_ref()),
        settings.as_ref().map_or(0, |s| s.model_threads),
    );
    // SAFETY: no other thread has started yet (the async runtime is built below).
    unsafe { switchboard_engines::model_threads::apply(threads) };
    malloc_arenas::limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How many pipeline workers the command runs in this process (their models share the cores).
fn pipeline_workers(command: &cli::Command, settings: Option<&settings::Settings>) -> usize {
    match command {
        cli::Command::Worker {
            concurrency,
            until_idle: false,
        } => *concurrency,
        cli::Command::Serve(_) | cli::Command::Demo(_) => settings.map_or(1, |s| s.workers),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::cli::Cli::command().debug_assert();
    }
}
