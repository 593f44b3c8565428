//! The command line: `serve` (default), `migrate`, `article import`,
//! `editor …` (in `editor_cli`), `worker`, `outbox list|retry`, `segment`
//! and `article resplit` (in `segment_cli`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::domain::article::{ArticleUpsert, Language, NewArticle, split_text_file};

#[derive(Debug, Parser)]
#[command(
    name = "erratum",
    version,
    about = "Reader error reports on article sentences, and the editors' review queue."
)]
pub struct Cli {
    /// A TOML file whose settings override the defaults (environment variables
    /// ERRATUM__SECTION__KEY override both). The Docker image sets
    /// ERRATUM_CONFIG, so every command run in the container reads its file.
    #[arg(long, global = true, value_name = "FILE", env = "ERRATUM_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the pages and the background worker (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Apply nothing: list the pending migrations and exit with 1 when
        /// there are some, 0 when the database is up to date (2 on error).
        #[arg(long)]
        check: bool,
    },
    /// Copy the live SQLite database to FILE, consistently, while it serves.
    Backup { file: PathBuf },
    /// Put a backup in place of the (stopped) SQLite database, after checking it.
    Restore { file: PathBuf },
    /// Data-subject requests: everything held about a reader's email address.
    Subject {
        #[command(subcommand)]
        command: crate::subjects_cli::SubjectCommand,
    },
    /// Manage articles.
    Article {
        #[command(subcommand)]
        command: ArticleCommand,
    },
    /// Manage editor accounts.
    Editor {
        #[command(subcommand)]
        command: crate::editor_cli::EditorCommand,
    },
    /// Run the email worker alone (without the API): send what the outbox
    /// holds, retry failures, write digests and overdue notices.
    Worker {
        /// Send everything due now, then exit (instead of running until stopped).
        #[arg(long)]
        drain: bool,
    },
    /// Inspect and retry the email outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Print how a text or HTML article body is split: one sentence per line,
    /// as `paragraph<TAB>sentence`.
    Segment(crate::segment_cli::SegmentArgs),
    /// Development tools.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Fill the database with a realistic scale dataset (for benchmarks):
    /// articles through the real ingest, reports and cases in batches.
    Seed {
        /// How many articles (30 sentences each).
        #[arg(long, default_value_t = 20_000)]
        articles: usize,
        /// How many reports (about five per case).
        #[arg(long, default_value_t = 1_000_000)]
        reports: usize,
    },
    /// Queue N reader outcome emails, due now, each to its own address
    /// (`reader-<i>@DOMAIN`): a burst for the outbox benchmark
    /// (`scripts/bench-outbox`).
    Emails {
        #[arg(default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value = "bench.example")]
        domain: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List emails, newest first.
    List {
        /// Only the dead letter: emails that failed every try.
        #[arg(long)]
        dead: bool,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put emails back in the queue, due now, with a fresh count of tries.
    Retry {
        /// The email's id (from `erratum outbox list`).
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        id: Option<String>,
        /// Every dead email.
        #[arg(long)]
        all_dead: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArticleCommand {
    /// Import a plain-text article (paragraphs separated by blank lines; the
    /// first paragraph is the title unless --title is given).
    Import {
        file: PathBuf,
        #[arg(long)]
        external_id: String,
        #[arg(long, value_enum)]
        lang: Lang,
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        desk: Option<String>,
    },
    /// Split stored articles again with the current segmentation rules; open
    /// cases follow their quote to the new sentences.
    Resplit {
        /// The article to re-split.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        external_id: Option<String>,
        /// Every article split with other rules than the current ones.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Lang {
    Fr,
    En,
}

/// Parse the command line, load settings, run. Exit code 2 for a bad
/// configuration or command line, 1 for a failure while running.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("erratum: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&settings.log);
    if let Some(Command::Migrate { check: true }) = cli.command {
        return actix_web::rt::System::new().block_on(migrate_check(settings));
    }
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Migrate { .. } => migrate(settings).await,
            Command::Backup { file } => crate::backup::backup(settings, file).await,
            Command::Restore { file } => crate::backup::restore(settings, file).await,
            Command::Subject { command } => crate::subjects_cli::run(settings, command).await,
            Command::Article {
                command:
                    ArticleCommand::Import {
                        file,
                        external_id,
                        lang,
                        url,
                        title,
                        desk,
                    },
            } => import(settings, file, external_id, lang, url, title, desk).await,
            Command::Article {
                command: ArticleCommand::Resplit { external_id, all },
            } => crate::segment_cli::resplit(settings, external_id, all).await,
            Command::Segment(args) => crate::segment_cli::segment(args),
            Command::Dev {
                command: DevCommand::Seed { articles, reports },
            } => crate::seed_cli::seed(settings, articles, reports).await,
            Command::Dev {
                command: DevCommand::Emails { count, domain },
            } => crate::notify::cli::queue_burst(settings, count, domain).await,
            Command::Editor { command } => crate::editor_cli::run(settings, command).await,
            Command::Worker { drain } => crate::notify::cli::worker(settings, drain).await,
            Command::Outbox {
                command: OutboxCommand::List { dead, limit },
            } => crate::notify::cli::list(settings, dead, limit).await,
            Command::Outbox {
                command: OutboxCommand::Retry { id, all_dead },
            } => crate::notify::cli::retry(settings, id, all_dead).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erratum: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = crate::startup::Application::build(settings).await?;
    crate::demo::welcome(&app.state()).await;
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let url = settings.database.url.clone();
    let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let (pool, _) = crate::db::connect(&url, 1, std::time::Duration::from_secs(10))?;
        crate::db::migrate(&mut *pool.get()?)
    })
    .await??;
    if applied.is_empty() {
        println!("the database is up to date");
    } else {
        for m in applied {
            println!("applied {m}");
        }
    }
    Ok(())
}

/// `erratum migrate --check`: exit code 0 when up to date, 1 when migrations
/// are pending (named on stdout), 2 when the database cannot be read, so a
/// deployment script can tell "must migrate" from "cannot tell".
async fn migrate_check(settings: Settings) -> ExitCode {
    let url = settings.database.url.clone();
    let pending = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let (pool, _) = crate::db::connect(&url, 1, std::time::Duration::from_secs(10))?;
        crate::db::pending_migrations(&mut *pool.get()?)
    })
    .await
    .map_err(anyhow::Error::from)
    .and_then(|r| r);
    match pending {
        Ok(names) if names.is_empty() => {
            println!("the database is up to date");
            ExitCode::SUCCESS
        }
        Ok(names) => {
            for name in &names {
                println!("pending {name}");
            }
            println!(
                "{} migration(s) pending: run `erratum migrate` (once, from one instance)",
                names.len()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("erratum: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn import(
    settings: Settings,
    file: PathBuf,
    external_id: String,
    lang: Lang,
    url: Option<String>,
    title: Option<String>,
    desk: Option<String>,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let (title, body) = split_text_file(&text, title.as_deref());
    let url = url.unwrap_or_else(|| format!("{}/articles/{external_id}", settings.public_url()));
    let language = match lang {
        Lang::Fr => Language::Fr,
        Lang::En => Language::En,
    };
    let input = ArticleUpsert {
        url,
        title,
        language: language.into(),
        desk,
        published_at: None,
        body_text: Some(body),
        body_html: None,
    };
    let article = NewArticle::parse(&external_id, input).map_err(|p| {
        let fields: Vec<String> = p
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        anyhow::anyhow!("{} {}", p.detail, fields.join("; "))
    })?;
    let db_url = settings.database.url.clone();
    let (view, outcome) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let (pool, _) = crate::db::connect(&db_url, 1, std::time::Duration::from_secs(10))?;
        let mut conn = pool.get()?;
        crate::db::migrate(&mut conn)?;
        // The server may be writing: take the write lock first.
        let ingested =
            crate::db::dialect::write_transaction::<_, crate::error::Problem, _>(&mut conn, |c| {
                crate::app::articles::ingest_in(c, &article)
            })
            .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
        Ok((ingested.view, ingested.outcome))
    })
    .await??;
    let what = match outcome {
        crate::app::articles::UpsertOutcome::Created => "created",
        crate::app::articles::UpsertOutcome::Revised => "revised",
        crate::app::articles::UpsertOutcome::Unchanged => "unchanged",
    };
    println!(
        "{} {what}: revision {}, {} sentences",
        view.external_id,
        view.revision,
        view.sentences.len()
    );
    Ok(())
}

/// A use case's refusal as one line for the shell: its detail and the
/// fields at fault.
pub fn shell_error(p: crate::error::Problem) -> anyhow::Error {
    let fields: Vec<String> = p
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    anyhow::anyhow!("{} {}", p.detail, fields.join("; "))
}
