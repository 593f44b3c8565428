//! `erratum backup FILE` and `erratum restore FILE` for SQLite.
//!
//! A backup is `VACUUM INTO`: SQLite copies the database inside one read
//! transaction, so the copy is the state at one instant (every report
//! acknowledged before the backup started is in it) while the service keeps
//! accepting writes (WAL: readers never block the writer). The copy is
//! written under a temporary name and renamed when complete and checked, so
//! a file with the final name is always a whole backup.
//!
//! A restore refuses a database that is in use, a file that fails
//! `PRAGMA integrity_check`, and a backup made by a newer release (a
//! migration this build does not know). The database it replaces is kept
//! beside it, renamed.
//!
//! PostgreSQL has its own tools (pg_dump/pg_restore); both commands say so.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::ManageConnection;
use diesel::sqlite::SqliteConnection;

use crate::config::Settings;
use crate::db::schema::{cases, reports};
use crate::db::{Backend, DbConn, Manager};

const PG_BACKUP: &str = "erratum backup copies SQLite databases; this one is PostgreSQL. \
Use PostgreSQL's own tool, which also works while erratum runs: \
pg_dump --format=custom --file=erratum.dump \"$DATABASE_URL\" (see the README, Backups)";
const PG_RESTORE: &str = "erratum restore puts back SQLite databases; this one is PostgreSQL. \
Stop erratum, then: pg_restore --clean --if-exists --no-owner --dbname=\"$DATABASE_URL\" erratum.dump \
(see the README, Backups)";

/// What a backup or a restore holds, to print and to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub reports: i64,
    pub cases: i64,
    pub bytes: u64,
}

pub async fn backup(settings: Settings, file: PathBuf) -> anyhow::Result<()> {
    let url = settings.database.url.clone();
    let shown = file.display().to_string();
    let s = tokio::task::spawn_blocking(move || backup_database(&url, &file)).await??;
    println!(
        "backed up {} reports in {} cases to {shown} ({} bytes)",
        s.reports, s.cases, s.bytes
    );
    Ok(())
}

pub async fn restore(settings: Settings, file: PathBuf) -> anyhow::Result<()> {
    let url = settings.database.url.clone();
    let (s, kept) = tokio::task::spawn_blocking(move || restore_database(&url, &file)).await??;
    println!(
        "restored {} reports in {} cases; start erratum to use it{}",
        s.reports,
        s.cases,
        match kept {
            Some(p) => format!(" (the database it replaced is kept as {})", p.display()),
            None => String::new(),
        }
    );
    Ok(())
}

fn sqlite_path(url: &str, pg_message: &str) -> anyhow::Result<PathBuf> {
    match Backend::from_url(url).map_err(|e| anyhow::anyhow!("database.url: {e}"))? {
        Backend::Sqlite(path) => Ok(path),
        Backend::Postgres(_) => anyhow::bail!("{pg_message}"),
    }
}

/// A sibling of `file` named `.<name>.<suffix>`: same folder, so the final
/// rename is atomic.
fn sibling(file: &Path, suffix: &str) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "erratum.db".into());
    file.with_file_name(format!(".{name}.{suffix}"))
}

/// Copy the live database at `url` to `file` (which must not exist).
pub fn backup_database(url: &str, file: &Path) -> anyhow::Result<Summary> {
    let path = sqlite_path(url, PG_BACKUP)?;
    if !path.exists() {
        anyhow::bail!("there is no database at {}", path.display());
    }
    if file.exists() {
        anyhow::bail!("{} exists already; choose a new name", file.display());
    }
    let partial = sibling(file, "partial");
    let _ = std::fs::remove_file(&partial);
    let copied = (|| -> anyhow::Result<Summary> {
        let mut live = SqliteConnection::establish(&path.to_string_lossy())?;
        // The copy's read transaction waits for no one; this covers a writer
        // that holds the lock while switching the journal mode.
        live.batch_execute("PRAGMA busy_timeout = 10000;")?;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(partial.to_string_lossy().into_owned())
            .execute(&mut live)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", partial.display()))?;
        let summary = check(&partial)?;
        std::fs::File::open(&partial)?.sync_all()?;
        Ok(summary)
    })();
    match copied {
        Ok(summary) => {
            std::fs::rename(&partial, file)?;
            sync_dir(file);
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Put the backup `file` in place of the stopped database at `url`. Returns
/// what it holds and where the replaced database was kept.
pub fn restore_database(url: &str, file: &Path) -> anyhow::Result<(Summary, Option<PathBuf>)> {
    let path = sqlite_path(url, PG_RESTORE)?;
    if !file.is_file() {
        anyhow::bail!("there is no backup at {}", file.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Check a copy, never the backup itself: opening a file can change it.
    let restoring = sibling(&path, "restoring");
    let _ = std::fs::remove_file(&restoring);
    std::fs::copy(file, &restoring)
        .map_err(|e| anyhow::anyhow!("cannot copy {}: {e}", file.display()))?;
    let checked = check(&restoring).and_then(|summary| {
        let mut conn = Manager::new(Backend::Sqlite(restoring.clone())).connect()?;
        let newer = crate::db::unknown_migrations(&mut conn)?;
        if !newer.is_empty() {
            anyhow::bail!(
                "{} was made by a newer release of erratum (migrations {} are unknown to this one): \
                 upgrade erratum first",
                file.display(),
                newer.join(", ")
            );
        }
        drop(conn);
        std::fs::File::open(&restoring)?.sync_all()?;
        Ok(summary)
    });
    let summary = match checked.and_then(|s| ensure_stopped(&path).map(|()| s)) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&restoring);
            return Err(e);
        }
    };
    // Keep the replaced database (with its WAL, which may hold its last
    // commits) under a dated name rather than deleting anything.
    let kept = if path.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let kept = path.with_file_name(format!(
            "{}.before-restore-{stamp}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ));
        for ext in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{ext}", path.display()));
            if from.exists() {
                std::fs::rename(&from, format!("{}{ext}", kept.display()))?;
            }
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&restoring, &path)?;
    sync_dir(&path);
    Ok((summary, kept))
}

/// Refuse to replace a database some process has open. Every connection to a
/// WAL database holds a shared lock for as long as it is open, so an
/// exclusive lock taken without waiting succeeds only when no one (no
/// `erratum serve`, no `erratum worker`) uses it. The lock is released before
/// the files are moved: a connection closed after the move would checkpoint
/// into the restored file's name.
fn ensure_stopped(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
    let locked = conn.batch_execute(
        "PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;",
    );
    if locked.is_err() {
        anyhow::bail!(
            "{} is in use: stop erratum (serve and worker) first, then restore",
            path.display()
        );
    }
    Ok(())
}

/// `PRAGMA integrity_check` and the counts, on a closed copy.
fn check(file: &Path) -> anyhow::Result<Summary> {
    #[derive(QueryableByName)]
    struct Integrity {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = SqliteConnection::establish(&file.to_string_lossy())?;
    let rows: Vec<Integrity> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", file.display()))?;
    let verdict: Vec<String> = rows.into_iter().map(|r| r.integrity_check).collect();
    if verdict != ["ok"] {
        anyhow::bail!(
            "{} fails the integrity check: {}",
            file.display(),
            verdict.join("; ")
        );
    }
    let mut conn = DbConn::Sqlite(conn);
    let counted = (|| -> QueryResult<(i64, i64)> {
        Ok((
            reports::table.count().get_result(&mut conn)?,
            cases::table.count().get_result(&mut conn)?,
        ))
    })();
    let (reports, cases) = counted
        .map_err(|e| anyhow::anyhow!("{} is not an erratum database: {e}", file.display()))?;
    Ok(Summary {
        reports,
        cases,
        bytes: std::fs::metadata(file)?.len(),
    })
}

/// Make a rename durable (best effort: not every file system allows it).
fn sync_dir(file: &Path) {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}
