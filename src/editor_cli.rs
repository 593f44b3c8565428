//! `erratum editor add|list|disable|enable|password`: managing accounts from
//! the server's shell, where the first admin is created. Passwords are read
//! from the terminal without echo, or from standard input when it is not a
//! terminal (one line), never from an argument (arguments show up in `ps`
//! and in shell history).

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;

use crate::config::Settings;
use crate::db::DbConn;
use crate::db::editors::{self as store, EditorChanges, EditorRow, NewEditor};
use crate::domain::actor::Who;
use crate::domain::article::Language;
use crate::domain::editor::{EditorEmail, Password, Role, parse_desks, parse_name};
use crate::error::{ErrorCode, Problem};

#[derive(Debug, Subcommand)]
pub enum EditorCommand {
    /// Create an account; the password is prompted for (or read from stdin).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// A desk whose cases the editor triages; repeat for several. None:
        /// every desk.
        #[arg(long = "desk", value_name = "DESK")]
        desks: Vec<String>,
        /// Language of the editor's emails and pages.
        #[arg(long, value_parser = ["fr", "en"], default_value = "fr")]
        language: String,
    },
    /// List every account.
    List,
    /// Disable an account and revoke its sessions and API tokens.
    Disable {
        /// The account's email or id.
        editor: String,
    },
    /// Enable a disabled account.
    Enable {
        /// The account's email or id.
        editor: String,
    },
    /// Set a new password (prompted for, or read from stdin); the account's
    /// sessions are revoked.
    Password {
        /// The account's email or id.
        editor: String,
    },
}

pub async fn run(settings: Settings, command: EditorCommand) -> anyhow::Result<()> {
    // Read the password before touching the database, so a typo costs nothing.
    let password = match &command {
        EditorCommand::Add { .. } | EditorCommand::Password { .. } => Some(read_password()?),
        _ => None,
    };
    let password_hash = match password {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || crate::auth::password::hash(&p))
                .await?
                .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?,
        ),
        None => None,
    };
    let url = settings.database.url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = crate::db::open_migrated(&url)?;
        // The server may be writing: take the write lock first.
        let out = crate::db::dialect::write_transaction::<_, Problem, _>(&mut conn, |c| {
            execute(c, command, password_hash)
        })
        .map_err(crate::cli::shell_error)?;
        print!("{out}");
        Ok(())
    })
    .await?
}

fn read_password() -> anyhow::Result<Password> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        if first != again {
            anyhow::bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    Password::parse(&raw).map_err(|e| anyhow::anyhow!("password: {}", e.message))
}

fn find(conn: &mut DbConn, key: &str) -> Result<EditorRow, Problem> {
    let found = match store::find_by_email(conn, key)? {
        Some(r) => Some(r),
        None => store::find(conn, key)?,
    };
    found
        .ok_or_else(|| Problem::not_found(ErrorCode::EditorNotFound, format!("No editor {key:?}.")))
}

fn field(e: crate::error::FieldError) -> Problem {
    Problem::validation(vec![e])
}

fn execute(
    conn: &mut DbConn,
    command: EditorCommand,
    password_hash: Option<String>,
) -> Result<String, Problem> {
    let actor = Who::Cli;
    let set = |conn: &mut DbConn, key: &str, ch: EditorChanges| -> Result<EditorRow, Problem> {
        let row = find(conn, key)?;
        store::update(conn, &actor, &row.id, ch)?.ok_or_else(|| {
            Problem::not_found(ErrorCode::EditorNotFound, format!("No editor {key:?}."))
        })
    };
    Ok(match command {
        EditorCommand::Add {
            email,
            name,
            role,
            desks,
            language,
        } => {
            let new = NewEditor {
                email: EditorEmail::parse(&email).map_err(field)?,
                name: parse_name(&name).map_err(field)?,
                role,
                desks: parse_desks(&desks).map_err(field)?,
                // clap already allows fr and en only.
                language: Language::from_tag(&language),
                password_hash: password_hash.unwrap_or_default(),
            };
            let row = store::create(conn, &actor, &new)?.ok_or_else(|| {
                Problem::conflict(
                    ErrorCode::EditorExists,
                    "An editor with this email already exists.",
                )
            })?;
            format!("created {} {} ({})\n", row.role.as_str(), row.email, row.id)
        }
        EditorCommand::List => {
            let rows = store::list(conn)?;
            let mut out = String::from("id\temail\tname\trole\tdesks\tstatus\n");
            for r in &rows {
                let desks = r.desks();
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.id,
                    r.email,
                    r.name,
                    r.role.as_str(),
                    if desks.is_empty() {
                        "*".to_string()
                    } else {
                        desks.join(",")
                    },
                    if r.disabled { "disabled" } else { "active" },
                ));
            }
            if rows.is_empty() {
                out.push_str(
                    "no editors yet: erratum editor add --email … --name … --role admin\n",
                );
            }
            out
        }
        EditorCommand::Disable { editor } => {
            let row = set(
                conn,
                &editor,
                EditorChanges {
                    disabled: Some(true),
                    ..Default::default()
                },
            )?;
            format!(
                "disabled {}; its sessions and API tokens are revoked\n",
                row.email
            )
        }
        EditorCommand::Enable { editor } => {
            let row = set(
                conn,
                &editor,
                EditorChanges {
                    disabled: Some(false),
                    ..Default::default()
                },
            )?;
            format!("enabled {}\n", row.email)
        }
        EditorCommand::Password { editor } => {
            let row = set(
                conn,
                &editor,
                EditorChanges {
                    password_hash,
                    ..Default::default()
                },
            )?;
            format!(
                "password changed for {}; its sessions are revoked\n",
                row.email
            )
        }
    })
}
