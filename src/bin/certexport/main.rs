//! `certexport`: the command line.
//!
//! Exit codes: 0 success; 2 bad usage or incompatible options; 3 not
//! found; 4 incomplete chain; 5 access denied, key export not allowed or
//! no key; 1 anything else. Errors are one line, `error: <reason>`, on
//! stderr.

#[cfg(feature = "postgres")]
mod db;
mod export;
mod failure;
#[cfg(feature = "server")]
mod hash_password;
mod input;
mod output;
mod search;
#[cfg(feature = "server")]
mod serve;
mod source;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use certexport::CertificateSummary;
use certexport::store::MemoryStore;
use certexport::store::{BadFiles, LoadOptions};
use clap::{Args, Parser, Subcommand};

use failure::Failure;

#[derive(Parser)]
#[command(
    name = "certexport",
    version,
    about = "Export X.509 certificates, chains and private keys",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One tab-separated line per certificate: id, SHA-1 (or SHA-256), serial, subject, issuer, key or -.
    List(ListArgs),
    /// Export one certificate (and its chain, and its key).
    Export(Box<export::ExportArgs>),
    /// Find certificates with the reference query language (CN -contains "web" AND NotAfter -le "%TODAY+30%").
    Search(Box<search::SearchArgs>),
    /// One certificate's facts: names, thumbprints, validity, key, SANs, key rights, chain.
    Show(Box<search::ShowArgs>),
    /// The database store: migrate, import, rotate-kek.
    #[cfg(feature = "postgres")]
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Serve the reference endpoints over HTTPS (Keyfactor Download and Recover, AppViewX key download).
    #[cfg(feature = "server")]
    Serve(Box<serve::ServeArgs>),
    /// Read a password on stdin and print its argon2id hash for a callers file.
    #[cfg(feature = "server")]
    HashPassword,
}

/// `certexport list`.
#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Print the SHA-256 thumbprint in the second column instead of the SHA-1.
    #[arg(long)]
    sha256: bool,
}

/// Where the certificates come from.
#[derive(Args)]
pub(crate) struct StoreArgs {
    /// A store file or directory (repeatable).
    #[cfg_attr(not(feature = "postgres"), arg(long = "store", required = true, value_name = "PATH"))]
    #[cfg_attr(feature = "postgres", arg(long = "store", value_name = "PATH"))]
    stores: Vec<PathBuf>,
    /// Skip files that cannot be read (reported on stderr) instead of failing.
    #[arg(long)]
    skip_bad_files: bool,
    #[cfg(feature = "postgres")]
    #[command(flatten)]
    database: db::DatabaseArgs,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // clap's whole message: what is wrong (the missing argument by
        // name, "a similar argument exists", the values a flag takes),
        // the usage line and where to find help. Exit code 2, as every
        // usage error.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::List(args) => list(&args),
        Command::Export(args) => export::export(&args),
        Command::Search(args) => search::search(&args),
        Command::Show(args) => search::show(&args),
        #[cfg(feature = "postgres")]
        Command::Db(command) => db::run(&command),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::serve(&args),
        #[cfg(feature = "server")]
        Command::HashPassword => hash_password::hash_password(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// The store files the flags name, with their warnings on stderr.
pub(crate) fn load(args: &StoreArgs) -> Result<MemoryStore, Failure> {
    load_reporting(args, |warning| eprintln!("warning: {warning}"))
}

/// The store files the flags name, each warning (a skipped file) handed to
/// `warn`.
pub(crate) fn load_reporting(
    args: &StoreArgs,
    warn: impl Fn(&certexport::ExportError),
) -> Result<MemoryStore, Failure> {
    let bad_files = if args.skip_bad_files {
        BadFiles::SkipWithWarning
    } else {
        BadFiles::Fail
    };
    let mut store = MemoryStore::new();
    let report = store.load_paths(&args.stores, &LoadOptions::with_bad_files(bad_files))?;
    for warning in &report.warnings {
        warn(warning);
    }
    Ok(store)
}

fn list(args: &ListArgs) -> Result<(), Failure> {
    let store = source::open(&args.store)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    store.for_each(|id, der, has_key| {
        let summary = CertificateSummary::from_der(der)?;
        let key = if has_key { "key" } else { "-" };
        let thumbprint = if args.sha256 { &summary.sha256 } else { &summary.sha1 };
        let written = writeln!(
            out,
            "{id}\t{thumbprint}\t{}\t{}\t{}\t{key}",
            summary.serial, summary.subject, summary.issuer
        );
        written.map_err(|_| Failure::StdoutClosed)
    })?;
    out.flush().map_err(|_| Failure::StdoutClosed)
}
