//! The database side of the command line (feature `postgres`): `--database
//! URL` and `--kek-file FILE` beside `--store PATH`, and `certexport db
//! migrate|import|rotate-kek`.
//!
//! The URL comes from `--database`, else from `DATABASE_URL`; the
//! key-encryption key from `--kek-file`, else from the file
//! `CERTEXPORT_KEK_FILE` names. Neither ever comes from a file of the
//! store, and the KEK never from the command line itself.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use certexport::store::{Kek, Migrations, PgOptions, PgStore, SCHEMA_VERSION};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::failure::Failure;
use crate::output;
use crate::{StoreArgs, load};

/// The environment variable that names the database when `--database` is not given.
const DATABASE_URL: &str = "DATABASE_URL";
/// The environment variable that names the KEK file when `--kek-file` is not given.
const KEK_FILE: &str = "CERTEXPORT_KEK_FILE";
/// What the `db` commands say when no database is named.
const NO_DATABASE: &str = "give --database URL";

/// Where the database is and the key that opens its private keys.
#[derive(Args)]
pub(crate) struct DatabaseArgs {
    /// A PostgreSQL store, postgresql://user@host:port/db (default: $DATABASE_URL).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// The key-encryption key of the database's private keys, 64 hex digits (default: $CERTEXPORT_KEK_FILE).
    #[arg(long, value_name = "FILE")]
    kek_file: Option<PathBuf>,
    /// A read replica (streaming standby) of the database (repeatable): lookups go to the
    /// replicas in turn, writes (import, migrate, rotate-kek) to --database; one that cannot
    /// be reached is skipped and tried again every 2 s.
    #[arg(long = "database-replica", value_name = "URL")]
    replicas: Vec<String>,
    /// The most MiB of lookup answers kept in memory (0: none); a cached answer is trusted
    /// for at most 1 s after the database's change counter was read.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    database_cache_mib: u64,
}

/// `certexport db ...`
#[derive(Subcommand)]
pub(crate) enum DbCommand {
    /// Create or upgrade the database's certexport schema.
    Migrate(DatabaseArgs),
    /// Import store files and directories (with their manifests and keys) into the database.
    Import(StoreArgs),
    /// Re-wrap every stored private key under a new key-encryption key (--kek-file is the old one).
    RotateKek(RotateArgs),
}

#[derive(Args)]
pub(crate) struct RotateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The new key-encryption key: 64 hex digits (e.g. from `openssl rand -hex 32`).
    #[arg(long, value_name = "FILE")]
    new_kek_file: PathBuf,
}

/// The database `--store`-less store arguments name, if they name one,
/// with up to `connections` connections (a command needs one; a server one
/// per export that may run at once).
pub(crate) fn open(args: &StoreArgs, connections: usize) -> Result<Option<PgStore>, Failure> {
    if !args.stores.is_empty() {
        if args.database.database.is_some() || !args.database.replicas.is_empty() {
            return Err(Failure::Usage("give --store or --database, not both".into()));
        }
        return Ok(None);
    }
    connect(
        &args.database,
        connections,
        Migrations::Require,
        "give --store PATH or --database URL",
    )
    .map(Some)
}

/// Runs a `db` command.
pub(crate) fn run(command: &DbCommand) -> Result<(), Failure> {
    match command {
        DbCommand::Migrate(args) => {
            let applied = PgStore::migrate(&url(args, NO_DATABASE)?)?;
            say(&format!(
                "certexport schema at version {SCHEMA_VERSION} ({applied} migration{} applied)\n",
                plural(applied)
            ))
        }
        DbCommand::Import(args) => import(args),
        DbCommand::RotateKek(args) => {
            let store = connect(&args.database, 1, Migrations::Require, NO_DATABASE)?;
            let old = kek(&args.database)?.ok_or(certexport::ExportError::KekRequired)?;
            let new = Kek::from_file(&args.new_kek_file)?;
            let rotated = store.rotate_kek(&old, &new)?;
            say(&format!("re-wrapped {rotated} private key{}\n", plural(rotated)))
        }
    }
}

/// `db import`: the files read as `--store` reads them, then copied in.
fn import(args: &StoreArgs) -> Result<(), Failure> {
    if args.stores.is_empty() {
        return Err(Failure::Usage("db import needs --store PATH (repeatable)".into()));
    }
    let store = connect(&args.database, 1, Migrations::Apply, NO_DATABASE)?;
    let progress = progress_bar();
    progress.set_message("reading files");
    let files = load(args)?;
    progress.set_style(bar_style());
    progress.set_message("importing");
    progress.set_length(files.len() as u64);
    let report = store.import(&files, &mut |done, _| progress.set_position(done as u64))?;
    progress.finish_and_clear();
    say(&format!(
        "{} certificate{} read: {} added ({} with a new id), {} already stored; {} private key{} stored\n",
        files.len(),
        plural(files.len()),
        report.added,
        report.renumbered,
        report.already_stored,
        report.keys,
        plural(report.keys),
    ))
}

/// The store `args` name, opened with up to `connections` connections and
/// `migrations`; `missing` says what to give when they name none.
fn connect(args: &DatabaseArgs, connections: usize, migrations: Migrations, missing: &str) -> Result<PgStore, Failure> {
    let options = PgOptions::default()
        .with_connections(connections)
        .with_migrations(migrations)
        .with_cache_bytes(args.database_cache_mib.saturating_mul(1 << 20));
    let mut store = PgStore::connect(&url(args, missing)?, &options)?;
    for replica in &args.replicas {
        store = store.with_replica(replica)?;
    }
    Ok(match kek(args)? {
        Some(kek) => store.with_kek(kek),
        None => store,
    })
}

/// The database URL; `missing` says what to give when there is none.
fn url(args: &DatabaseArgs, missing: &str) -> Result<String, Failure> {
    match &args.database {
        Some(url) => Ok(url.clone()),
        None => std::env::var(DATABASE_URL).map_err(|_| Failure::Usage(format!("{missing} (or set {DATABASE_URL})"))),
    }
}

fn kek(args: &DatabaseArgs) -> Result<Option<Kek>, Failure> {
    let path = match &args.kek_file {
        Some(path) => path.clone(),
        None => match std::env::var_os(KEK_FILE) {
            Some(path) => PathBuf::from(path),
            None => return Ok(None),
        },
    };
    Ok(Some(Kek::from_file(&path)?))
}

/// A spinner on a terminal's stderr; nothing elsewhere.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn say(text: &str) -> Result<(), Failure> {
    output::to_stdout(text.as_bytes())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
