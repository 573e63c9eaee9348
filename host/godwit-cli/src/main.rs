//! `godwit`: the command line. Parses arguments, calls `godwit-host`, prints.
//!
//! Exit codes (also in `--help` and docs/cli.md): 0 success, 1 validation
//! failed or rows rejected, 2 usage or project-file error, 3 runtime failure.

mod bundles;
mod output;
mod scaffold;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use godwit_host::engine::{Observer, Session};
use godwit_host::runtime::Runtime;
use godwit_host::{project, Error, ErrorKind, EXIT_OK, EXIT_USAGE, EXIT_VALIDATION};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  validation failed (a validator reported an error) or rows were rejected
  2  usage or project-file error
  3  runtime failure (a plugin trapped or failed, a database or store failed)
  130  interrupted by SIGINT or SIGTERM (rejects flushed, report written; run resumes)

Logs go to stderr; set the level with -v/-vv or GODWIT_LOG (e.g. GODWIT_LOG=debug).
Secrets in DSNs are never printed: passwords show as ***.";

/// godwit — move data between storage systems with sandboxed Wasm plugins.
#[derive(Parser)]
#[command(name = "godwit", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Print results as JSON on stdout instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Refuse (exit 2) a connection used read-only whose database role could
    /// bypass read-only transactions (PostgreSQL superuser or
    /// pg_execute_server_program / pg_read_server_files /
    /// pg_write_server_files; MySQL FILE or SUPER) instead of warning.
    #[arg(long, global = true)]
    strict: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a starter godwit.toml in DIR (default: current directory).
    Init {
        /// Project directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Show everything `run` would do — DDL, load order, row counts, sample
    /// rewrites, validators — and write nothing.
    Plan {
        /// Project directory holding godwit.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run every step of the project, then its validators. An interrupted
    /// run is resumed: finished tables are kept, the interrupted one is redone.
    Run {
        /// Project directory holding godwit.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Ignore the progress of an interrupted run and start over.
        #[arg(long)]
        fresh: bool,
    },
    /// Run the project's validators against the current source and target.
    Validate {
        /// Project directory holding godwit.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Only the checks before writing (validators that read only what
        /// no step writes, or `when = "before"`): the first step of a
        /// rehearsal, before any target exists.
        #[arg(long, conflicts_with = "after")]
        before: bool,
        /// Only the checks after writing (target-side validators).
        #[arg(long)]
        after: bool,
    },
    /// List and inspect plugins.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Plugin development tools.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Create a reviewer key pair: NAME.key (secret, mode 0600) and NAME.pub
    /// (to list under [trust] keys in projects).
    Keygen {
        /// Reviewer name.
        name: String,
        /// Directory for the two files.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Reviewed plugin bundles: pack, sign, verify, inspect.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Pack components into a bundle (a `.bundle` archive, or a directory).
    /// Each component's worlds, WIT version and requested capabilities are
    /// read from it and written into the manifest reviewers sign.
    Pack {
        /// Bundle name.
        #[arg(long)]
        name: String,
        /// Bundle version.
        #[arg(long)]
        version: String,
        /// Output: `NAME.bundle` for an archive, any other path for a directory.
        #[arg(long)]
        out: PathBuf,
        /// Components, as `FILE.wasm` (named after the file) or `NAME=FILE.wasm`.
        #[arg(required = true)]
        components: Vec<String>,
    },
    /// Add a reviewer's signature over the bundle's manifest.
    Sign {
        /// The bundle.
        bundle: PathBuf,
        /// The reviewer's secret key (from `godwit keygen`).
        #[arg(long)]
        key: PathBuf,
    },
    /// Check a bundle: component digests, signatures, and (with --dir or
    /// --trust) that trusted reviewers signed it. Exit 0 only if it passes.
    Verify {
        /// The bundle.
        bundle: PathBuf,
        /// Trusted public keys (NAME.pub files).
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// Use the [trust] of this project instead.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show a bundle's manifest: components, worlds, requested capabilities,
    /// digests and signatures; with --dir, what that project grants each.
    Inspect {
        /// The bundle.
        bundle: PathBuf,
        /// A project whose grants to show next to the requests.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// List the built-in plugins and those configured in a project.
    List {
        /// Project directory (its [plugins] are listed too, if it has a godwit.toml).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Show a plugin's world, requested capabilities, grants, limits and digest.
    Inspect {
        /// A plugin instance of the project, a built-in name, or a .wasm file.
        plugin: String,
        /// Project directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Scaffold a plugin crate that builds to a component with `cargo build`.
    New {
        /// Crate name (also the folder created).
        name: String,
        /// Plugin kind.
        #[arg(long, value_enum)]
        kind: ScaffoldKind,
        /// Parent directory for the new crate.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Path to the godwit-sdk crate (default: the SDK this godwit was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
}

/// Plugin kinds for scaffolding.
#[derive(Clone, Copy, ValueEnum)]
pub enum ScaffoldKind {
    /// A source adapter.
    Source,
    /// A target adapter.
    Target,
    /// A rewrite rule.
    Rewrite,
    /// A validator.
    Validator,
}

/// mimalloc instead of glibc malloc: a migration allocates every row on the
/// thread that reads it and frees it on the thread that loads it, which glibc
/// serves with locks and consolidation (40 % of a SQLite → PostgreSQL run's
/// CPU with a rewrite rule, profiled; see docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_USAGE as u8
            } else {
                EXIT_OK as u8
            });
        }
    };
    init_logging(cli.verbose);
    // Panic messages go through the same secret scrubbing as everything else.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "godwit crashed (a bug): {}",
            godwit_host::redact::scrub(&info.to_string())
        );
    }));
    let json = cli.json;
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let code = match rt.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e, json);
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("GODWIT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // The run directory's log keeps at least info, whatever the terminal shows.
    let file_filter = EnvFilter::try_from_env("GODWIT_LOG")
        .unwrap_or_else(|_| EnvFilter::new(if verbose == 0 { "info" } else { default }));
    use std::io::IsTerminal;
    use tracing_subscriber::prelude::*;
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(output::ScrubbedStderr::new)
        .with_target(false)
        .with_filter(filter);
    let file = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(output::ScrubbedFile::new)
        .with_target(false)
        .with_filter(file_filter);
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}

async fn session(
    dir: &std::path::Path,
    dry_run: bool,
    observer: Arc<dyn Observer>,
    strict: bool,
) -> Result<Session, Error> {
    let mut project = project::load(dir)?;
    project.strict = strict;
    let runtime = Runtime::new(Runtime::default_cache_dir())?;
    Session::new(project, runtime, dry_run, observer)
}

async fn dispatch(cli: Cli) -> Result<i32, Error> {
    let json = cli.json;
    let strict = cli.strict;
    match cli.command {
        Command::Init { dir } => {
            let file = dir.join(project::PROJECT_FILE);
            if file.exists() {
                return Err(Error::project(format!("{} already exists", file.display())));
            }
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("{}: {e}", dir.display())))?;
            std::fs::write(&file, scaffold::PROJECT_TEMPLATE)
                .map_err(|e| Error::io(format!("{}: {e}", file.display())))?;
            output::created(&file, json);
            Ok(EXIT_OK)
        }
        Command::Plan { dir } => {
            let s = session(&dir, true, Arc::new(godwit_host::engine::Silent), strict).await?;
            let plan = s.plan().await?;
            output::plan(&plan, json);
            Ok(EXIT_OK)
        }
        Command::Run { dir, fresh } => {
            let progress = output::Progress::new(json);
            let mut s = session(&dir, false, progress.clone(), strict).await?;
            s.fresh = fresh;
            output::log_to(&s.run_dir.join("godwit.log"))?;
            // A signal drops the run where it is: open load transactions roll
            // back, the reject file is flushed as it closes, and the report
            // says the run was interrupted (exit 130); a plain `run` resumes.
            let report = tokio::select! {
                r = s.run() => r,
                sig = interrupted() => Err(Error::new(
                    ErrorKind::Interrupted,
                    format!("interrupted by {sig}: unfinished tables were rolled back; `godwit run` resumes"),
                )),
            };
            progress.finish();
            let report = report.inspect_err(|e| failure_report(&s, "run", e))?;
            report.write()?;
            output::run(&report, json);
            Ok(if report.clean() {
                EXIT_OK
            } else {
                EXIT_VALIDATION
            })
        }
        Command::Validate { dir, before, after } => {
            let only = match (before, after) {
                (true, _) => Some(godwit_host::project::ValidatorPhase::Before),
                (_, true) => Some(godwit_host::project::ValidatorPhase::After),
                _ => None,
            };
            let s = session(&dir, false, Arc::new(godwit_host::engine::Silent), strict).await?;
            output::log_to(&s.run_dir.join("godwit.log"))?;
            let report = s
                .validate_report(only)
                .await
                .inspect_err(|e| failure_report(&s, "validate", e))?;
            report.write()?;
            output::validate(&report, json);
            Ok(if report.clean() {
                EXIT_OK
            } else {
                EXIT_VALIDATION
            })
        }
        Command::Plugins { command } => match command {
            PluginsCommand::List { dir } => {
                let items = scaffold::list_plugins(&dir).await?;
                output::plugin_list(&items, json);
                Ok(EXIT_OK)
            }
            PluginsCommand::Inspect { plugin, dir } => {
                let info = scaffold::inspect(&plugin, &dir).await?;
                output::inspect(&info, json);
                Ok(EXIT_OK)
            }
        },
        Command::Keygen { name, dir } => {
            let (key, public) = godwit_host::bundle::keygen(&dir, &name)?;
            output::created(&key, json);
            output::created(&public, json);
            Ok(EXIT_OK)
        }
        Command::Bundle { command } => match command {
            BundleCommand::Pack {
                name,
                version,
                out,
                components,
            } => {
                bundles::pack(&name, &version, &out, &components).await?;
                output::created(&out, json);
                Ok(EXIT_OK)
            }
            BundleCommand::Sign { bundle, key } => {
                let reviewer = godwit_host::bundle::sign(&bundle, &key)?;
                output::message(&format!("signed {} as {reviewer}", bundle.display()), json);
                Ok(EXIT_OK)
            }
            BundleCommand::Verify { bundle, trust, dir } => {
                let report = bundles::verify(&bundle, &trust, dir.as_deref())?;
                output::bundle_report(&report, json);
                Ok(if report.trusted {
                    EXIT_OK
                } else {
                    EXIT_VALIDATION
                })
            }
            BundleCommand::Inspect { bundle, dir } => {
                let report = bundles::inspect(&bundle, dir.as_deref())?;
                output::bundle_report(&report, json);
                Ok(EXIT_OK)
            }
        },
        Command::Plugin { command } => match command {
            PluginCommand::New {
                name,
                kind,
                dir,
                sdk,
            } => {
                let path = scaffold::new_plugin(&name, kind, &dir, sdk)?;
                output::created(&path, json);
                Ok(EXIT_OK)
            }
        },
    }
}

/// Leaves `report.json` and `report.md` describing a command that failed,
/// so every run directory says how its run ended.
/// Waits for SIGINT or SIGTERM; returns the signal's name.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

fn failure_report(s: &Session, command: &str, e: &Error) {
    let dir = &s.run_dir;
    let message = godwit_host::redact::scrub(&e.message);
    let json = serde_json::json!({
        "schema": godwit_host::engine::REPORT_SCHEMA,
        "command": command,
        "project": s.project.name,
        "run_dir": dir.display().to_string(),
        "error": { "kind": e.kind, "code": e.code, "message": message, "exit_code": e.exit_code() },
    });
    let md = format!(
        "# godwit {command} of {}: FAILED\n\n- error ({:?}{}, exit code {}): {message}\n- log: `godwit.log`\n",
        s.project.name,
        e.kind,
        e.code.as_ref().map(|c| format!(", code {c}")).unwrap_or_default(),
        e.exit_code()
    );
    let rejects = dir.join("rejects.jsonl");
    let json = match std::fs::read_to_string(&rejects) {
        Ok(text) => {
            let mut json = json;
            json["rejects_file"] = rejects.display().to_string().into();
            json["rejected"] = text.lines().count().into();
            json
        }
        Err(_) => json,
    };
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(dir.join("report.json"), json.to_string());
    let _ = std::fs::write(dir.join("report.md"), md);
}

/// An error for a bad command-line value.
pub fn usage(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Project, msg)
}
