//! `certexport export`: one request from flags (and a JSON request file),
//! one artifact to stdout, a file or JSON.

use std::path::PathBuf;

use certexport::formats::{KeyEncryption, P7bEncoding, PfxProfile};
use certexport::options::{
    ChainOrder, CspPolicy, ExportTime, FileExtension, IncompleteChains, KeyExport, KeyPlacement, RootCertificate,
};
use certexport::store::CertificateStore;
use certexport::wire::{self, Casing};
use certexport::{CertificateFormat, ExportError, ExportRequest, ExportSettings, Exporter, Lookup, Password};
use clap::{Args, ValueEnum};

use crate::failure::Failure;
use crate::input::{self, read_small_file};
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
    /// Output format (default pem; pfx with --api recover).
    #[arg(long, value_parser = choice::<CertificateFormat>(&["cer", "crt", "der", "pem", "p7b", "pfx", "zip"]))]
    format: Option<CertificateFormat>,
    /// File extension (default: the format's).
    #[arg(long, value_parser = choice::<FileExtension>(&["cer", "crt", "pem", "p7b", "pfx", "key", "p8", "zip"]))]
    extension: Option<FileExtension>,
    /// Include the chain up to the root.
    #[arg(long)]
    include_chain: bool,
    /// Order of a multi-certificate output.
    #[arg(long, default_value = "end-entity-first", value_parser = choice::<ChainOrder>(&["end-entity-first", "root-first"]))]
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
    /// PFX encryption profile.
    #[arg(long, default_value = "modern", value_parser = choice::<PfxProfile>(&["modern", "legacy"]))]
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
    /// A request in a reference API's JSON field names (any casing); its fields override the flags.
    #[arg(long, value_name = "FILE")]
    request: Option<PathBuf>,
    /// The API --request speaks: download or recover (Keyfactor), appviewx (the key download).
    /// Without it, a body with a uuId is appviewx, and any other is read for its Keyfactor fields.
    #[arg(long, value_enum, requires = "request")]
    api: Option<Api>,
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

/// A flag that takes one of `values` (which `--help` lists and clap's
/// error suggests from), parsed by the library's `FromStr`.
fn choice<T>(values: &'static [&'static str]) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr<Err = ExportError> + Clone + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(values).try_map(|value| value.parse::<T>())
}

/// The reference APIs a request file may speak.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Api {
    /// Keyfactor `POST /Certificates/Download`.
    Download,
    /// Keyfactor `POST /Certificates/Recover`: the certificate with its key.
    Recover,
    /// AppViewX `POST /avxapi/certificate/privatekey/download`.
    Appviewx,
}

/// What the output looks like with --json.
enum Shape {
    /// The command line's `{"Content", "FileName", "ContentType", "Certificates"}`.
    Artifact(Casing),
    /// Recover's `{"PFX", "FileName"}`.
    Recover(Casing),
    /// The AppViewX envelope.
    Avx,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyScheme {
    #[value(name = "aes-256-cbc")]
    Aes256Cbc,
    #[value(name = "legacy-3des")]
    Legacy3des,
}

pub(crate) fn export(args: &ExportArgs) -> Result<(), Failure> {
    let body = args
        .request
        .as_deref()
        .map(|path| read_small_file(path, "a request file"))
        .transpose()?;
    let api = match (&body, args.api) {
        (_, Some(api)) => Some(api),
        (Some(body), None) if names_a_uuid(body) => Some(Api::Appviewx),
        _ => None,
    };
    let (request, shape) = match (&body, api) {
        (Some(body), Some(Api::Appviewx)) => (avx_request(args, body)?, Shape::Avx),
        (Some(body), Some(Api::Recover)) => recover_request(args, body)?,
        (body, api) => flags_request(args, body.as_ref().map(|b| b.as_slice()), api)?,
    };
    let artifact = match exporter(args)?.export(&input::caller(args.claims.as_deref())?, &request) {
        Ok(artifact) => artifact,
        Err(error) => {
            if args.json && matches!(shape, Shape::Avx) {
                let (_, envelope) = wire::avx_failure(&error);
                let _ = output::to_stdout(format!("{envelope}\n").as_bytes());
            }
            return Err(error.into());
        }
    };
    if let Some(dir) = &args.out {
        let existing = if args.force { Existing::Replace } else { Existing::Keep };
        let path = output::write_artifact(dir, &artifact, existing)?;
        output::to_stdout(format!("{}\n", path.display()).as_bytes())
    } else if args.json {
        let mut text = match shape {
            Shape::Artifact(casing) => wire::artifact_json(&artifact, casing),
            Shape::Recover(casing) => wire::recover_response(&artifact, casing),
            Shape::Avx => wire::avx_success(&artifact).1,
        };
        text.push('\n');
        output::to_stdout(text.as_bytes())
    } else {
        output::to_stdout(artifact.bytes())
    }
}

/// Whether a request body names a `uuId` (the AppViewX call's field).
fn names_a_uuid(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
        .is_ok_and(|map| map.keys().any(|k| k.eq_ignore_ascii_case("uuId")))
}

fn warn_unknown(fields: &[String]) {
    for field in fields {
        eprintln!("warning: unknown request field {field:?} ignored");
    }
}

/// The request of the flags, with a Keyfactor body's fields over them.
fn flags_request(args: &ExportArgs, body: Option<&[u8]>, api: Option<Api>) -> Result<(ExportRequest, Shape), Failure> {
    // Download's fields, or Recover's, which hold them and the password
    // and legacy switch the key flags use.
    let mut json = match (body, api) {
        (Some(body), Some(Api::Download)) => Some(Json::Download(wire::DownloadRequest::from_json(body)?)),
        (Some(body), _) => Some(Json::Recover(wire::RecoverRequest::from_json(body)?)),
        (None, _) => None,
    };
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
    match &json {
        Some(Json::Download(download)) => {
            warn_unknown(download.unknown_fields());
            lookups.extend(download.lookups().iter().cloned());
        }
        Some(Json::Recover(recover)) => {
            warn_unknown(recover.unknown_fields());
            lookups.extend(recover.lookups().iter().cloned());
        }
        None => {}
    }
    let mut request = ExportRequest::from_lookups(lookups)?;
    request.format = args.format.unwrap_or(CertificateFormat::Pem);
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
    // The body's Password, where given, wins over the flags.
    let json_password = match &mut json {
        Some(Json::Recover(recover)) => recover.take_password(),
        _ => None,
    };
    request.private_key = match placement {
        None => KeyExport::None,
        Some(placement) if args.danger_unencrypted_key => KeyExport::DangerUnencrypted { placement },
        Some(placement) => KeyExport::Encrypted {
            placement,
            password: match json_password {
                Some(password) => password,
                None => password(args)?.ok_or(ExportError::PasswordRequired)?,
            },
            encryption: encryption(args),
        },
    };
    let casing = match &json {
        Some(Json::Download(download)) => {
            download.apply_to(&mut request);
            download.casing()
        }
        Some(Json::Recover(recover)) => {
            recover.apply_to(&mut request);
            recover.casing()
        }
        None => Casing::Pascal,
    };
    Ok((request, Shape::Artifact(casing)))
}

/// A body read as one of the two Keyfactor calls.
enum Json {
    Download(wire::DownloadRequest),
    Recover(wire::RecoverRequest),
}

/// `--api recover`: the body decides, the flags give the format
/// (default PFX), the password when the body has none, and iterations.
fn recover_request(args: &ExportArgs, body: &[u8]) -> Result<(ExportRequest, Shape), Failure> {
    let mut recover = wire::RecoverRequest::from_json(body)?;
    warn_unknown(recover.unknown_fields());
    let casing = recover.casing();
    if !recover.has_password()
        && let Some(password) = password(args)?
    {
        recover = recover.or_password(password);
    }
    let format = wire::recover_format(args.format.map(|f| f.to_string()).as_deref())?;
    let mut request = recover.into_export_request(format, wire::query_scope(args.collection_id, args.container_id))?;
    if let Some(n) = args.iterations {
        request.pfx.iterations = n;
        if let KeyExport::Encrypted { encryption, .. } = &mut request.private_key {
            *encryption = encryption.with_iterations(n);
        }
    }
    Ok((request, Shape::Recover(casing)))
}

/// The AppViewX key download: the body's uuId and password, the flags'
/// key scheme.
fn avx_request(args: &ExportArgs, body: &[u8]) -> Result<ExportRequest, Failure> {
    let avx = wire::AvxKeyRequest::from_json(body)?;
    warn_unknown(avx.unknown_fields());
    Ok(avx.into_export_request(encryption(args)))
}

fn encryption(args: &ExportArgs) -> KeyEncryption {
    let encryption = match args.key_encryption {
        KeyScheme::Aes256Cbc => KeyEncryption::default(),
        KeyScheme::Legacy3des => KeyEncryption::legacy_pkcs12_triple_des(),
    };
    args.iterations.map_or(encryption, |n| encryption.with_iterations(n))
}

fn exporter(args: &ExportArgs) -> Result<Exporter<Box<dyn CertificateStore>>, Failure> {
    let mut settings = ExportSettings::default()
        .with_periods_in_filenames(!args.no_periods_in_filename)
        .with_csps(CspPolicy::allowing(args.allow_csp.iter().cloned()));
    if args.allow_partial_chain {
        settings.chain.incomplete = IncompleteChains::AllowPartial;
    }
    if args.exclude_root {
        settings.chain.root = RootCertificate::Exclude;
    }
    if let Some(t) = args.time {
        settings.time = ExportTime::UnixSeconds(t);
    }
    Ok(Exporter::with_settings(
        source::open(&args.store)?.into_store(),
        settings,
    ))
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
