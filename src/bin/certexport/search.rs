//! `certexport search` and `certexport show`: find certificates with the
//! reference query language, and show one certificate's facts.
//!
//! `search` prints a table on a terminal, tab-separated lines otherwise
//! (or with `--tsv`: id, SHA-1, serial, subject, issuer, notAfter, `key`
//! or `-`; the total on stderr), and with `--json` the object
//! `{"Total": n, "Certificates": [...]}` with the service's answer fields.
//! `show` prints `field: value` lines, or with `--json` the service's
//! detail object. Both run as the local operator (full rights) unless
//! `--claims` names a caller, with `--collection-id` / `--container-id`
//! as the scope, exactly as `export` does.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use certexport::ids::{CertId, Thumbprint, Uuid};
use certexport::options::{ExportTime, Scope};
use certexport::search::{CertificateDetail, CertificateQuery, DEFAULT_PAGE_SIZE, SortDirection, SortField};
use certexport::wire::{self, Casing};
use certexport::{Caller, ExportSettings, Exporter, Lookup};
use clap::Args;

use crate::failure::Failure;
use crate::input;
use crate::{StoreArgs, source};

/// Who asks, in which scope, at which time.
#[derive(Args)]
pub(crate) struct CallerArgs {
    /// The caller's claims, one per line (default: the local operator, with full rights).
    #[arg(long, value_name = "FILE")]
    claims: Option<PathBuf>,
    /// Check rights at this certificate collection.
    #[arg(long, value_name = "N")]
    collection_id: Option<u64>,
    /// Check rights at this certificate-store container.
    #[arg(long, value_name = "N")]
    container_id: Option<u64>,
    /// Take %TODAY% (and judge chains) at this time, seconds since the Unix epoch, instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    time: Option<i64>,
}

/// `certexport search`.
#[derive(Args)]
pub(crate) struct SearchArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The query, e.g. 'CN -contains "web" AND NotAfter -le "%TODAY+30%"' (default: every certificate).
    #[arg(long, default_value = "")]
    query: String,
    /// The page, from 1.
    #[arg(long, default_value_t = 1)]
    page: u32,
    /// Certificates per page (at most 1000).
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE)]
    page_size: u32,
    /// Sort by CertId, IssuedCN, IssuedDate, NotAfter or IssuerDN.
    #[arg(long, value_name = "FIELD", default_value = "CertId")]
    sort: String,
    /// Largest first.
    #[arg(long)]
    descending: bool,
    /// Print JSON: {"Total": n, "Certificates": [...]}.
    #[arg(long, conflicts_with = "tsv")]
    json: bool,
    /// Print tab-separated lines, even on a terminal.
    #[arg(long)]
    tsv: bool,
    #[command(flatten)]
    caller: CallerArgs,
}

/// `certexport show`.
#[derive(Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The certificate's id.
    #[arg(long, value_name = "N", required_unless_present_any = ["thumbprint", "uuid"], conflicts_with_all = ["thumbprint", "uuid"])]
    id: Option<u64>,
    /// Its SHA-1 or SHA-256 thumbprint.
    #[arg(long, value_name = "HEX", conflicts_with = "uuid")]
    thumbprint: Option<String>,
    /// Its uuId.
    #[arg(long, value_name = "UUID")]
    uuid: Option<String>,
    /// Print the service's JSON detail object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    caller: CallerArgs,
}

impl CallerArgs {
    fn caller(&self) -> Result<Caller, Failure> {
        Ok(input::caller(self.claims.as_deref())?)
    }

    fn scope(&self) -> Scope {
        wire::query_scope(self.collection_id, self.container_id)
    }

    fn exporter(&self, store: &StoreArgs) -> Result<Exporter<Box<dyn certexport::store::CertificateStore>>, Failure> {
        let time = self.time.map_or(ExportTime::Now, ExportTime::UnixSeconds);
        Ok(Exporter::with_settings(
            source::open(store)?.into_store(),
            ExportSettings::default().with_time(time),
        ))
    }
}

pub(crate) fn search(args: &SearchArgs) -> Result<(), Failure> {
    let sort = SortField::from_name(&args.sort).ok_or_else(|| {
        Failure::Usage(format!(
            "invalid sort field {:?}: one of CertId, IssuedCN, IssuedDate, NotAfter, IssuerDN is accepted",
            args.sort
        ))
    })?;
    let direction = if args.descending {
        SortDirection::Descending
    } else {
        SortDirection::Ascending
    };
    let query = CertificateQuery::parse(&args.query)?
        .with_page(args.page)?
        .with_page_size(args.page_size)?
        .with_sort(sort, direction);
    let caller = args.caller.caller()?;
    let exporter = args.caller.exporter(&args.store)?;
    let results = exporter.search(&caller, args.caller.scope(), &query)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if args.json {
        writeln!(
            out,
            "{{\"Total\":{},\"Certificates\":{}}}",
            results.total,
            wire::search_json(&results, Casing::Pascal)
        )
    } else if args.tsv || !std::io::stdout().is_terminal() {
        eprintln!("{} certificates match", results.total);
        results.certificates.iter().try_for_each(|c| {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                c.id,
                c.sha1,
                c.serial,
                c.subject,
                c.issuer,
                date(c.not_after),
                if c.has_private_key { "key" } else { "-" }
            )
        })
    } else {
        table(&mut out, &results.certificates, results.total, &query)
    };
    written.and_then(|()| out.flush()).map_err(|_| Failure::StdoutClosed)
}

/// A table for a person: id, CN, expiry, key, thumbprint, and where the page is.
fn table(
    out: &mut impl Write,
    certificates: &[CertificateDetail],
    total: u64,
    query: &CertificateQuery,
) -> std::io::Result<()> {
    let cn_width = certificates
        .iter()
        .map(|c| c.common_name.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(2)
        .clamp(2, 48);
    writeln!(
        out,
        "{:>8}  {:<cn_width$}  {:<20}  {:<3}  THUMBPRINT",
        "ID", "CN", "NOT AFTER", "KEY"
    )?;
    for c in certificates {
        let cn: String = c.common_name.as_deref().unwrap_or("-").chars().take(48).collect();
        writeln!(
            out,
            "{:>8}  {:<cn_width$}  {:<20}  {:<3}  {}",
            c.id.0,
            cn.escape_debug(),
            date(c.not_after),
            if c.has_private_key { "yes" } else { "no" },
            c.sha1
        )?;
    }
    let first = query.offset() + 1;
    let last = query.offset() + certificates.len() as u64;
    if certificates.is_empty() {
        writeln!(out, "page {}: none of {total} matching certificates", query.page)
    } else {
        writeln!(
            out,
            "page {}: {first}-{last} of {total} matching certificates",
            query.page
        )
    }
}

pub(crate) fn show(args: &ShowArgs) -> Result<(), Failure> {
    let lookup = match (&args.id, &args.thumbprint, &args.uuid) {
        (Some(id), _, _) => Lookup::CertId(CertId(*id)),
        (_, Some(thumbprint), _) => Lookup::Thumbprint(thumbprint.parse::<Thumbprint>()?),
        (_, _, Some(uuid)) => Lookup::Uuid(uuid.parse::<Uuid>()?),
        _ => return Err(Failure::Usage("give --id, --thumbprint or --uuid".into())),
    };
    let caller = args.caller.caller()?;
    let exporter = args.caller.exporter(&args.store)?;
    let detail = exporter.detail(&caller, args.caller.scope(), &lookup)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if args.json {
        writeln!(out, "{}", wire::certificate_json(&detail, Casing::Pascal))
    } else {
        lines(&mut out, &detail)
    };
    written.and_then(|()| out.flush()).map_err(|_| Failure::StdoutClosed)
}

fn lines(out: &mut impl Write, d: &CertificateDetail) -> std::io::Result<()> {
    writeln!(out, "id: {}", d.id)?;
    writeln!(out, "subject: {}", d.subject)?;
    writeln!(out, "issuer: {}", d.issuer)?;
    writeln!(out, "serial: {}", d.serial)?;
    writeln!(out, "sha1: {}", d.sha1)?;
    writeln!(out, "sha256: {}", d.sha256)?;
    writeln!(out, "not before: {}", date(d.not_before))?;
    writeln!(out, "not after: {}", date(d.not_after))?;
    writeln!(
        out,
        "key: {} {}",
        d.key_type.unwrap_or("unknown"),
        d.key_bits.map_or_else(String::new, |b| format!("{b} bits"))
    )?;
    writeln!(out, "signature algorithm: {}", d.signature_algorithm)?;
    for san in &d.subject_alt_names {
        writeln!(out, "subject alt name: {}", san.value())?;
    }
    writeln!(
        out,
        "private key held: {}",
        if d.has_private_key { "yes" } else { "no" }
    )?;
    if let Some(exportable) = d.private_key_exportable {
        writeln!(
            out,
            "private key exportable by this caller: {}",
            if exportable { "yes" } else { "no" }
        )?;
    }
    writeln!(out, "collections: {:?}", d.collections)?;
    if let Some(uuid) = &d.uuid {
        writeln!(out, "uuid: {uuid}")?;
    }
    match &d.chain {
        Ok(chain) => {
            for (i, link) in chain.iter().enumerate() {
                writeln!(out, "chain {i}: {} {} {}", link.id, link.sha1, link.subject)?;
            }
            Ok(())
        }
        Err(error) => writeln!(out, "chain: {error}"),
    }
}

fn date(seconds: i64) -> String {
    certexport::search::iso8601(seconds)
}
