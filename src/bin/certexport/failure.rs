//! How the command line fails: one line on stderr and an exit code,
//! decided here and nowhere else.

use std::process::ExitCode;

use certexport::ExportError;

/// Why a command did not finish.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The library refused or failed.
    Export(ExportError),
    /// The command line itself is wrong (a flag's value, a missing
    /// environment variable).
    Usage(String),
    /// A service could not start or run (`serve`: a port in use, no
    /// signals): exit code 1.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    Service(String),
    /// Standard output was closed by its reader (`| head`): nothing more
    /// to say, and nothing wrong.
    StdoutClosed,
}

impl From<ExportError> for Failure {
    fn from(error: ExportError) -> Self {
        Failure::Export(error)
    }
}

impl Failure {
    /// Prints the error line (if any) and gives the exit code: 0 success;
    /// 2 bad usage or incompatible options; 3 not found; 4 incomplete
    /// chain; 5 access denied, key export not allowed or no key; 1
    /// anything else.
    pub(crate) fn report(self) -> ExitCode {
        let (line, code) = match self {
            Failure::StdoutClosed => return ExitCode::SUCCESS,
            Failure::Usage(reason) => (reason, 2),
            Failure::Service(reason) => (reason, 1),
            Failure::Export(error) => {
                let code = exit_code(&error);
                let mut line = error.to_string();
                // The library's sentence names no flag; the command line's does.
                if let ExportError::PasswordRequired = error {
                    line.push_str(
                        "; give it with --password-file FILE (its first line) or --password-env VAR \
                         (a password never comes from the command line itself)",
                    );
                }
                // A store backend's own words (the database's) are what the
                // operator acts on: its chain of causes follows.
                if let ExportError::Backend(backend) = &error {
                    let mut cause: Option<&dyn std::error::Error> = Some(backend.get_ref());
                    while let Some(e) = cause {
                        line = format!("{line}: {e}");
                        cause = e.source();
                    }
                }
                (line, code)
            }
        };
        eprintln!("error: {line}");
        ExitCode::from(code)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Export(error) => error.fmt(f),
            Failure::Usage(reason) | Failure::Service(reason) => f.write_str(reason),
            Failure::StdoutClosed => f.write_str("standard output was closed"),
        }
    }
}

fn exit_code(error: &ExportError) -> u8 {
    use ExportError as E;
    match error {
        e if e.is_malformed_request() => 2,
        E::UnstableId { .. } | E::IncompatibleOptions { .. } | E::PasswordRequired | E::CspNotAllowed { .. } => 2,
        E::NotFound { .. } | E::AmbiguousLookup { .. } => 3,
        E::IncompleteChain { .. } | E::ChainTooLong { .. } | E::ChainBudgetExceeded { .. } => 4,
        E::AccessDenied | E::ScopeRequired { .. } | E::KeyExportRestricted { .. } | E::NoPrivateKey { .. } => 5,
        _ => 1,
    }
}
