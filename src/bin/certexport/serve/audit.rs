//! The server's log, and the audit line written for every key export.
//!
//! An audit line (target `certexport::audit`) holds the time, the caller's
//! name, the route, the lookup as asked, the certificate's id and SHA-1
//! thumbprint (when it was found), the format and the outcome — never a
//! password, a key, a token, a request body or a header's value. Log lines
//! are text, or one JSON object each with `--log-format json`, on stderr.

use certexport::ids::Thumbprint;
use certexport::{CertificateFormat, ExportError, Lookup};
use clap::ValueEnum;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Starts the log on stderr, at level INFO.
pub(crate) fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false);
    // A second initialisation (there is none) would keep the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// What a key export's audit line says.
pub(crate) struct KeyExportRecord<'a> {
    /// The caller's name.
    pub(crate) caller: &'a str,
    /// The route, e.g. `recover`.
    pub(crate) route: &'static str,
    /// The lookup the request gave.
    pub(crate) lookup: &'a Lookup,
    /// The format asked for.
    pub(crate) format: CertificateFormat,
}

impl KeyExportRecord<'_> {
    /// Writes the line for an export that succeeded, of the certificate
    /// with store id `id` and SHA-1 `thumbprint`.
    pub(crate) fn exported(&self, id: u64, thumbprint: Option<&Thumbprint>) {
        tracing::info!(
            target: "certexport::audit",
            event = "key_export",
            caller = self.caller,
            route = self.route,
            lookup = %self.lookup,
            certificate_id = id,
            thumbprint = thumbprint.map(|t| t.to_string()).unwrap_or_default(),
            format = %self.format,
            outcome = "exported",
        );
    }

    /// Writes the line for an export that was refused or failed, with the
    /// error's kind (`ErrorCode`).
    pub(crate) fn refused(&self, error: &ExportError, kind: &'static str) {
        tracing::info!(
            target: "certexport::audit",
            event = "key_export",
            caller = self.caller,
            route = self.route,
            lookup = %self.lookup,
            format = %self.format,
            outcome = "refused",
            error = kind,
            reason = %error,
        );
    }

    /// Writes the line for an export that panicked (a bug; answered 500).
    pub(crate) fn panicked(&self) {
        tracing::error!(
            target: "certexport::audit",
            event = "key_export",
            caller = self.caller,
            route = self.route,
            lookup = %self.lookup,
            format = %self.format,
            outcome = "failed",
            error = "InternalError",
            reason = "the export panicked",
        );
    }
}
