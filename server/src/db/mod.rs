//! The database: one `Store` over SQLite or PostgreSQL, its migrations and connection setup.
//!
//! The SQL is written once in the dialect both backends share (`$1` parameters, `ON CONFLICT`,
//! `RETURNING`) and runs through sqlx's `Any` driver with runtime-checked queries. What differs
//! per backend lives in [`Backend`]: connection setup, migrations (one append-only folder each)
//! and how writes are serialized — SQLite has one writer connection, PostgreSQL relies on the
//! row lock of the change counter (see `sync`).

pub mod admin;
pub mod archive;
pub mod caps;
pub mod cases;
pub mod directory;
pub mod evidence;
pub mod ledger;
pub mod ledger_columns;
pub mod photos;
pub mod plans;
pub mod reports;
pub mod revisions;
pub mod sync;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::Config;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The SQL database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file in the data folder, WAL mode: nothing to install, enough for one banner.
    Sqlite,
    /// For many banners and several stateless replicas.
    Postgres,
}

impl Backend {
    fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    /// `n` parameter markers for values bound in order, the first being parameter `from`:
    /// `$from, …` on PostgreSQL, plain `?` on SQLite. SQLite finds each named marker by a linear
    /// scan when it is bound, so a multi-row statement of thousands of `$n` binds in quadratic
    /// time (half the CPU of pushing 100 findings); a statement must not mix the two kinds.
    fn markers(self, from: usize, n: usize) -> String {
        match self {
            Self::Postgres => placeholders(from, n),
            Self::Sqlite if n == 0 => "NULL".to_owned(),
            Self::Sqlite => {
                let mut text = "?, ".repeat(n);
                text.truncate(text.len() - 2);
                text
            }
        }
    }
}

/// All persistent state except photo bytes. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads (and on PostgreSQL, writes).
    pool: AnyPool,
    /// Writes. On SQLite a single connection, so writers queue in the process instead of
    /// failing with `SQLITE_BUSY`; on PostgreSQL the same pool as reads.
    writer: AnyPool,
}

impl Store {
    /// Opens the database named by the configuration and brings its schema up to date.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let store = if config.uses_postgres() {
            let url = config.database_url.as_deref().unwrap_or_default();
            Self::open_postgres(url).await?
        } else {
            let url = match config.database_url.as_deref() {
                Some(url) if url.starts_with("sqlite:") => url.to_owned(),
                _ => {
                    std::fs::create_dir_all(&config.data).with_context(|| {
                        format!("creating data folder {}", config.data.display())
                    })?;
                    let file = config.data.join("zhicha.db").display().to_string();
                    // The file name is percent-decoded from the URL.
                    let file = file
                        .replace('%', "%25")
                        .replace('?', "%3F")
                        .replace('#', "%23");
                    format!("sqlite://{file}?mode=rwc")
                }
            };
            Self::open_sqlite(&url).await?
        };
        store
            .backend
            .migrator()
            .run(&store.writer)
            .await
            .context("running migrations")?;
        let filled = store
            .backfill_ledger()
            .await
            .context("filling the ledger columns of older findings")?;
        if filled > 0 {
            tracing::info!(
                findings = filled,
                "filled the ledger columns of older findings"
            );
        }
        Ok(store)
    }

    async fn open_sqlite(url: &str) -> anyhow::Result<Self> {
        let options = AnyConnectOptions::from_str(url).context("parsing the SQLite URL")?;
        let pool_options = || {
            AnyPoolOptions::new().after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers never block the writer. FULL: every commit is on disk before
                    // its ack is sent, so a power cut cannot lose what a device then deleted.
                    // Checkpoints every 8,000 pages (32 MB of WAL) rather than 1,000: a push
                    // batch writes a few hundred pages, mostly the same index pages again, and
                    // each checkpoint copies them to the database file and syncs it on the
                    // committing request's time. Durability is the WAL's, unchanged.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                         PRAGMA wal_autocheckpoint = 8000;",
                    )
                    .await?;
                    Ok(())
                })
            })
        };
        let writer = pool_options()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .context("opening the SQLite database")?;
        let pool = pool_options()
            .max_connections(8)
            .connect_with(options)
            .await
            .context("opening the SQLite database")?;
        Ok(Self {
            backend: Backend::Sqlite,
            pool,
            writer,
        })
    }

    async fn open_postgres(url: &str) -> anyhow::Result<Self> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Self {
            backend: Backend::Postgres,
            writer: pool.clone(),
            pool,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True when nothing has been set up yet (no organisation unit).
    pub async fn is_empty(&self) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM org_units")
            .fetch_one(&self.pool)
            .await?;
        Ok(count == 0)
    }

    /// Answers when both the reading pool and the writer can run a query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    /// Closes all connections (graceful shutdown, end of a test).
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Now, as stored: RFC 3339 UTC with milliseconds, so text order is time order.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `$from, $from+1, …` placeholders for an `IN (…)` list of `n` values; `NULL` (matching
/// nothing) for an empty list, which SQL does not allow.
fn placeholders(from: usize, n: usize) -> String {
    if n == 0 {
        return "NULL".to_owned();
    }
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True for a unique-constraint violation (a concurrent insert of the same key).
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Copies of a SQLite database, for `backup` and `restore` (`operator::backup`). Each opens its
/// own connection to the file and neither migrates nor writes the database it reads, so a newer
/// binary may back up the database of an older server while it serves.
impl Store {
    /// The SQLite database file the configuration names; None on PostgreSQL.
    pub fn sqlite_file(config: &Config) -> anyhow::Result<Option<std::path::PathBuf>> {
        if config.uses_postgres() {
            return Ok(None);
        }
        match config.database_url.as_deref() {
            Some(url) if url.starts_with("sqlite:") => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .context("parsing the SQLite URL")?;
                Ok(Some(options.get_filename().to_owned()))
            }
            _ => Ok(Some(config.data.join("zhicha.db"))),
        }
    }

    /// Writes a consistent copy of the SQLite database `from` to the new file `to` with
    /// `VACUUM INTO`: one read transaction, so the copy holds every transaction committed
    /// before it began, what is still in the WAL included, and none after. In WAL mode the
    /// server's writer goes on meanwhile. The copy is flushed to disk before this returns.
    pub async fn sqlite_snapshot(
        from: &std::path::Path,
        to: &std::path::Path,
    ) -> anyhow::Result<()> {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(from)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(30));
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("opening {}", from.display()))?;
        let path = to
            .to_str()
            .context("the backup folder's path is not valid UTF-8")?;
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(&mut conn)
            .await
            .context("copying the database (VACUUM INTO)")?;
        conn.close().await?;
        std::fs::File::open(to)?.sync_all()?;
        Ok(())
    }

    /// `PRAGMA integrity_check` of a SQLite database file that no server uses: `["ok"]` when
    /// it is sound, else the problems found.
    pub async fn sqlite_integrity_check(file: &std::path::Path) -> anyhow::Result<Vec<String>> {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(false);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("opening {}", file.display()))?;
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await
            .context("checking the database")?;
        conn.close().await?;
        Ok(rows)
    }
}
