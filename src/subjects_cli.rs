//! `erratum subject export|erase|requests`: answering readers' data-subject
//! requests from the server's shell (the same functions as the admin API).

use clap::Subcommand;

use crate::app::subjects::{self, SubjectEmail};
use crate::config::Settings;
use crate::domain::actor::Actor;
use crate::error::Problem;

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// Print, as JSON, everything held about a reader's email address:
    /// reports, emails, suppression entries, requests (GDPR art. 15).
    Export { email: String },
    /// Erase a reader's email address everywhere (GDPR art. 17): reports
    /// are unlinked from it, emails to it and its suppression entries are
    /// dropped.
    Erase {
        email: String,
        /// Remove the reports' text too (comment, suggested correction,
        /// sources); without it the text stays, no longer linked to anyone.
        #[arg(long)]
        remove_text: bool,
    },
    /// List readers' requests from their status pages, open ones first.
    Requests {
        /// Handled ones too.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(settings: Settings, command: SubjectCommand) -> anyhow::Result<()> {
    let url = settings.database.url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = crate::db::open_migrated(&url)?;
        // The server may be writing: take the write lock first.
        let out = crate::db::dialect::write_transaction::<_, Problem, _>(&mut conn, |c| {
            execute(c, command)
        })
        .map_err(crate::cli::shell_error)?;
        print!("{out}");
        Ok(())
    })
    .await?
}

fn execute(conn: &mut crate::db::DbConn, command: SubjectCommand) -> Result<String, Problem> {
    Ok(match command {
        SubjectCommand::Export { email } => {
            let email = SubjectEmail::parse(&email)?;
            let found = subjects::export_in(conn, &Actor::cli(), &email)?;
            let mut out = serde_json::to_string_pretty(&found).map_err(Problem::internal)?;
            out.push('\n');
            out
        }
        SubjectCommand::Erase { email, remove_text } => {
            let email = SubjectEmail::parse(&email)?;
            let e = subjects::erase_in(conn, &Actor::cli(), &email, remove_text)?;
            format!(
                "erased: {} reports unlinked{}, {} emails and {} suppression entries dropped, {} requests handled\n",
                e.reports,
                if e.text_removed {
                    " and their text removed"
                } else {
                    ""
                },
                e.emails,
                e.suppressions,
                e.requests_handled
            )
        }
        SubjectCommand::Requests { all } => {
            let rows = subjects::requests_in(conn, !all)?;
            let mut out = String::from("id\tkind\tfiled\treport\temail\tstatus\n");
            for r in &rows {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.id,
                    r.kind.as_str(),
                    r.created_at.format("%Y-%m-%d %H:%M"),
                    r.report_reference,
                    r.email.as_deref().unwrap_or("-"),
                    if r.handled_at.is_some() {
                        "handled"
                    } else {
                        "open"
                    },
                ));
            }
            if rows.is_empty() {
                out.push_str(if all {
                    "no requests\n"
                } else {
                    "no open requests\n"
                });
            }
            out
        }
    })
}
