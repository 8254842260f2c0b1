//! `certexport`: the command line of SPEC §9.
//!
//! Exit codes: 0 success; 2 bad usage or incompatible options; 3 not
//! found; 4 incomplete chain; 5 access denied, key export not allowed or
//! no key; 1 anything else. Errors are one line, `error: <reason>`, on
//! stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use certexport::request::ReferenceRequest;
use certexport::store::{BadFiles, LoadOptions};
use certexport::{
    Caller, CertificateFormat, CertificateSummary, ChainOrder, CspPolicy, ExportError, ExportRequest, ExportSettings,
    ExportTime, Exporter, FileExtension, IncompleteChains, KeyEncryption, KeyExport, KeyPlacement, Lookup, MemoryStore,
    P7bEncoding, Password, PfxProfile, RootCertificate,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "certexport",
    version,
    about = "Export X.509 certificates, chains and private keys"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One tab-separated line per certificate: id, SHA-1, serial, subject, issuer, key or -.
    List(StoreArgs),
    /// Export one certificate (and its chain, and its key).
    Export(Box<ExportArgs>),
}

#[derive(Args)]
struct StoreArgs {
    /// A store file or directory (repeatable).
    #[arg(long = "store", required = true, value_name = "PATH")]
    stores: Vec<PathBuf>,
    /// Skip files that cannot be read (reported on stderr) instead of failing.
    #[arg(long)]
    skip_bad_files: bool,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The certificate's store id.
    #[arg(long, value_name = "N")]
    id: Option<u64>,
    /// SHA-1 or SHA-256 thumbprint (hex; ':' and spaces allowed).
    #[arg(long, value_name = "HEX")]
    thumbprint: Option<String>,
    /// Serial number (hex), with --issuer.
    #[arg(long, value_name = "HEX", requires = "issuer")]
    serial: Option<String>,
    /// Issuer DN (RFC 4514), with --serial.
    #[arg(long, value_name = "DN", requires = "serial")]
    issuer: Option<String>,
    /// Output format: cer, crt, der, pem, p7b or pfx.
    #[arg(long, default_value = "pem")]
    format: CertificateFormat,
    /// File extension: cer, crt, pem, p7b, pfx, key or p8 (default: the format's).
    #[arg(long)]
    extension: Option<FileExtension>,
    /// Include the chain up to the root.
    #[arg(long)]
    include_chain: bool,
    /// Order of a multi-certificate output: end-entity-first or root-first.
    #[arg(long, default_value = "end-entity-first")]
    chain_order: ChainOrder,
    /// No `subject=` line before PEM certificates.
    #[arg(long)]
    no_subject_header: bool,
    /// Write a P7B as PEM (`BEGIN PKCS7`) rather than DER.
    #[arg(long)]
    p7b_pem: bool,
    /// Add the encrypted private key (PEM after the certificates, or PFX).
    #[arg(long, conflicts_with = "key_only")]
    with_key: bool,
    /// Export the encrypted private key alone (PKCS#8; PEM, or DER with --format der).
    #[arg(long)]
    key_only: bool,
    /// Export the key UNENCRYPTED (with --with-key or --key-only). Anyone who reads the file has the key.
    #[arg(long)]
    danger_unencrypted_key: bool,
    /// Read the password from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    password_file: Option<PathBuf>,
    /// Read the password from environment variable VAR.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// Key encryption for PEM/PKCS#8 output.
    #[arg(long, value_enum, default_value = "aes-256-cbc")]
    key_encryption: KeyScheme,
    /// Iterations of the key derivation (default 600000 for aes-256-cbc, 2048 for legacy-3des and PFX).
    #[arg(long, value_name = "N")]
    iterations: Option<u32>,
    /// PFX encryption profile: modern or legacy.
    #[arg(long, default_value = "modern")]
    pfx_profile: PfxProfile,
    /// Microsoft CSP to name in the PFX key bag (must be allowed with --allow-csp).
    #[arg(long, value_name = "NAME")]
    csp: Option<String>,
    /// A CSP name requests may use (repeatable); allows CSPs.
    #[arg(long = "allow-csp", value_name = "NAME")]
    allow_csp: Vec<String>,
    /// PFX friendly name (default: the file-name stem).
    #[arg(long, value_name = "NAME")]
    friendly_name: Option<String>,
    /// Replace every '.' of the CN with '_' in the file name.
    #[arg(long)]
    no_periods_in_filename: bool,
    /// Export a chain that cannot reach a root as far as it goes.
    #[arg(long)]
    allow_partial_chain: bool,
    /// Leave the root out of the chain.
    #[arg(long)]
    exclude_root: bool,
    /// Judge validity at this time (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    time: Option<i64>,
    /// The caller's claims, one per line (default: the local operator, with full rights).
    #[arg(long, value_name = "FILE")]
    claims: Option<PathBuf>,
    /// Check rights at this certificate collection.
    #[arg(long, value_name = "N")]
    collection_id: Option<u64>,
    /// Check rights at this certificate-store container.
    #[arg(long, value_name = "N")]
    container_id: Option<u64>,
    /// A request in the reference API's JSON field names; its fields override the flags.
    #[arg(long, value_name = "FILE")]
    request: Option<PathBuf>,
    /// Write DIR/<file name> and print its path.
    #[arg(long, value_name = "DIR", conflicts_with = "json")]
    out: Option<PathBuf>,
    /// Print {"Content", "FileName", "ContentType", "Certificates"}.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyScheme {
    #[value(name = "aes-256-cbc")]
    Aes256Cbc,
    #[value(name = "legacy-3des")]
    Legacy3des,
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
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("bad usage").trim_start_matches("error: ");
            eprintln!("error: {line}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::List(args) => list(&args),
        Command::Export(args) => export(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The one place errors become exit codes.
fn exit_code(error: &ExportError) -> u8 {
    use ExportError as E;
    match error {
        E::InvalidThumbprint { .. }
        | E::InvalidSerialNumber { .. }
        | E::InvalidDistinguishedName { .. }
        | E::InvalidClaim { .. }
        | E::MissingLookup
        | E::IncompleteLookup { .. }
        | E::ConflictingLookups { .. }
        | E::IncompatibleOptions { .. }
        | E::InvalidOption { .. }
        | E::PasswordRequired
        | E::CspNotAllowed { .. } => 2,
        E::NotFound { .. } | E::AmbiguousLookup { .. } => 3,
        E::IncompleteChain { .. } | E::ChainTooLong { .. } | E::ChainBudgetExceeded { .. } => 4,
        E::AccessDenied | E::KeyExportRestricted { .. } | E::NoPrivateKey { .. } => 5,
        _ => 1,
    }
}

fn load(args: &StoreArgs) -> Result<MemoryStore, ExportError> {
    let bad_files = if args.skip_bad_files {
        BadFiles::SkipWithWarning
    } else {
        BadFiles::Fail
    };
    let mut store = MemoryStore::new();
    let report = store.load_paths(&args.stores, &LoadOptions { bad_files })?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(store)
}

fn list(args: &StoreArgs) -> Result<(), ExportError> {
    let store = load(args)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (cert, has_key) in store.iter() {
        let summary = CertificateSummary::from_der(&cert.der)?;
        let key = if has_key { "key" } else { "-" };
        let written = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{key}",
            cert.id, summary.sha1, summary.serial, summary.subject, summary.issuer
        );
        if written.is_err() {
            break; // stdout closed (e.g. piped into `head`)
        }
    }
    let _ = out.flush();
    Ok(())
}

fn export(args: &ExportArgs) -> Result<(), ExportError> {
    let json = args.request.as_deref().map(read_request).transpose()?;
    let mut lookups = Lookup::from_parts(
        args.id,
        args.thumbprint.as_deref(),
        args.serial.as_deref(),
        args.issuer.as_deref(),
    )
    .or_else(|e| {
        if json.is_some() && e == ExportError::MissingLookup {
            Ok(Vec::new())
        } else {
            Err(e)
        }
    })?;
    if let Some(json) = &json {
        lookups.extend(json.lookups()?);
    }
    let mut request = ExportRequest::from_lookups(lookups)?;
    request.format = args.format;
    request.extension = args.extension;
    request.include_chain = args.include_chain;
    request.chain_order = args.chain_order;
    request.include_subject_header = !args.no_subject_header;
    request.p7b_encoding = if args.p7b_pem {
        P7bEncoding::Pem
    } else {
        P7bEncoding::Der
    };
    request.pfx.profile = args.pfx_profile;
    if let Some(n) = args.iterations {
        request.pfx.iterations = n;
    }
    request.pfx.friendly_name.clone_from(&args.friendly_name);
    request.pfx.target_csp.clone_from(&args.csp);
    request.scope.collection_id = args.collection_id;
    request.scope.container_id = args.container_id;

    let placement = match (args.with_key, args.key_only) {
        (true, _) => Some(KeyPlacement::WithCertificate),
        (_, true) => Some(KeyPlacement::KeyOnly),
        _ if args.danger_unencrypted_key => {
            return Err(ExportError::IncompatibleOptions {
                first: "--danger-unencrypted-key".into(),
                second: "no --with-key or --key-only".into(),
            });
        }
        _ => None,
    };
    let json_has_password = json.as_ref().is_some_and(|j| j.password.is_some());
    request.private_key = match placement {
        None => KeyExport::None,
        Some(placement) if args.danger_unencrypted_key => KeyExport::DangerUnencrypted { placement },
        Some(placement) => {
            let encryption = match args.key_encryption {
                KeyScheme::Aes256Cbc => KeyEncryption::default(),
                KeyScheme::Legacy3des => KeyEncryption::legacy_pkcs12_triple_des(),
            };
            let encryption = args.iterations.map_or(encryption, |n| encryption.with_iterations(n));
            let password = match password(args)? {
                Some(p) => p,
                // The JSON's Password replaces this placeholder in `apply`.
                None if json_has_password => Password::new("placeholder")?,
                None => return Err(ExportError::PasswordRequired),
            };
            KeyExport::Encrypted {
                placement,
                password,
                encryption,
            }
        }
    };
    if let Some(json) = json {
        json.apply(&mut request)?;
    }

    let caller = match &args.claims {
        Some(path) => Caller::from_claim_lines(&String::from_utf8_lossy(&read(path)?))?,
        None => Caller::single_tenant_full_access(),
    };
    let mut settings = ExportSettings {
        allow_periods_in_filenames: !args.no_periods_in_filename,
        csps: CspPolicy {
            allow: !args.allow_csp.is_empty(),
            names: args.allow_csp.clone(),
        },
        ..ExportSettings::default()
    };
    if args.allow_partial_chain {
        settings.chain.incomplete = IncompleteChains::AllowPartial;
    }
    if args.exclude_root {
        settings.chain.root = RootCertificate::Exclude;
    }
    if let Some(t) = args.time {
        settings.time = ExportTime::UnixSeconds(t);
    }

    let exporter = Exporter::with_settings(load(&args.store)?, settings);
    let artifact = exporter.export(&caller, &request)?;
    if let Some(dir) = &args.out {
        let path = dir.join(artifact.file_name());
        std::fs::write(&path, artifact.bytes()).map_err(|e| ExportError::Io {
            path: path.clone(),
            kind: e.kind(),
        })?;
        println!("{}", path.display());
    } else if args.json {
        let text = Zeroizing::new(
            serde_json::to_string(&artifact).map_err(|e| ExportError::InvalidOption {
                what: "JSON output",
                reason: e.to_string(),
            })?,
        );
        println!("{}", text.as_str());
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(artifact.bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| ExportError::Io {
                path: "<stdout>".into(),
                kind: e.kind(),
            })?;
    }
    Ok(())
}

fn password(args: &ExportArgs) -> Result<Option<Password>, ExportError> {
    if let Some(path) = &args.password_file {
        return Password::from_first_line(read(path)?).map(Some);
    }
    if let Some(var) = &args.password_env {
        let value = std::env::var(var).map_err(|_| ExportError::InvalidOption {
            what: "--password-env",
            reason: format!("environment variable {var} is not set or not UTF-8"),
        })?;
        return Password::new(value).map(Some);
    }
    Ok(None)
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| ExportError::Io {
        path: path.to_owned(),
        kind: e.kind(),
    })
}

fn read_request(path: &Path) -> Result<ReferenceRequest, ExportError> {
    ReferenceRequest::from_json(&read(path)?)
}
