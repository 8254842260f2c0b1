//! `certexport export`: one request from flags (and a JSON request file),
//! one artifact to stdout, a file or JSON.

use std::path::PathBuf;

use certexport::chain::{IncompleteChains, RootCertificate};
use certexport::request::ReferenceRequest;
use certexport::{
    Caller, CertificateFormat, ChainOrder, CspPolicy, ExportError, ExportRequest, ExportSettings, ExportTime, Exporter,
    FileExtension, KeyEncryption, KeyExport, KeyPlacement, Lookup, P7bEncoding, Password, PfxProfile,
};
use clap::{Args, ValueEnum};
use zeroize::Zeroizing;

use crate::failure::Failure;
use crate::input::read_small_file;
use crate::output::{self, Existing};
use crate::{StoreArgs, source};

#[derive(Args)]
pub(crate) struct ExportArgs {
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
    /// The certificate's uuId (1-64 of A-Z, a-z, 0-9, '-'), as a store manifest assigns it.
    #[arg(long, value_name = "ID")]
    uuid: Option<String>,
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
    /// Write DIR/<file name> and print its path. An existing file is not replaced without --force.
    #[arg(long, value_name = "DIR", conflicts_with = "json")]
    out: Option<PathBuf>,
    /// With --out: replace an existing file (atomically).
    #[arg(long, requires = "out")]
    force: bool,
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

pub(crate) fn export(args: &ExportArgs) -> Result<(), Failure> {
    let mut json = args.request.as_deref().map(read_request).transpose()?;
    let mut lookups = match Lookup::from_parts(
        args.id,
        args.thumbprint.as_deref(),
        args.serial.as_deref(),
        args.issuer.as_deref(),
    ) {
        Ok(lookups) => lookups,
        Err(ExportError::MissingLookup) if json.is_some() || args.uuid.is_some() => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    if let Some(uuid) = &args.uuid {
        lookups.push(Lookup::Uuid(uuid.parse()?));
    }
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
            }
            .into());
        }
        _ => None,
    };
    // The JSON's Password, where given, wins over the flags.
    let json_password = json.as_mut().and_then(ReferenceRequest::take_password);
    request.private_key = match placement {
        None => KeyExport::None,
        Some(placement) if args.danger_unencrypted_key => KeyExport::DangerUnencrypted { placement },
        Some(placement) => {
            let encryption = match args.key_encryption {
                KeyScheme::Aes256Cbc => KeyEncryption::default(),
                KeyScheme::Legacy3des => KeyEncryption::legacy_pkcs12_triple_des(),
            };
            let encryption = args.iterations.map_or(encryption, |n| encryption.with_iterations(n));
            let password = match json_password {
                Some(password) => password,
                None => password(args)?.ok_or(ExportError::PasswordRequired)?,
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
        Some(path) => Caller::from_claim_lines(&String::from_utf8_lossy(&read_small_file(path, "a claims file")?))?,
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

    let exporter = Exporter::with_settings(source::open(&args.store)?, settings);
    let artifact = exporter.export(&caller, &request)?;
    if let Some(dir) = &args.out {
        let existing = if args.force { Existing::Replace } else { Existing::Keep };
        let path = output::write_artifact(dir, &artifact, existing)?;
        output::to_stdout(format!("{}\n", path.display()).as_bytes())
    } else if args.json {
        let mut text = Zeroizing::new(serde_json::to_vec(&artifact).map_err(|_| ExportError::Encoding {
            what: "JSON output",
            source: der::ErrorKind::Failed.into(),
        })?);
        text.push(b'\n');
        output::to_stdout(&text)
    } else {
        output::to_stdout(artifact.bytes())
    }
}

fn password(args: &ExportArgs) -> Result<Option<Password>, Failure> {
    if let Some(path) = &args.password_file {
        return Ok(Some(Password::from_first_line(read_small_file(
            path,
            "a password file",
        )?)?));
    }
    if let Some(var) = &args.password_env {
        let value = std::env::var(var)
            .map_err(|_| Failure::Usage(format!("environment variable {var} is not set or not UTF-8")))?;
        return Ok(Some(Password::new(value)?));
    }
    Ok(None)
}

fn read_request(path: &std::path::Path) -> Result<ReferenceRequest, Failure> {
    Ok(ReferenceRequest::from_json(&read_small_file(path, "a request file")?)?)
}
