//! The download dialog: the seed's options as a form, and the form as an
//! export request.
//!
//! | choice | output | extensions offered |
//! | --- | --- | --- |
//! | CER, CRT | PEM text of the certificate | `.cer`, `.crt` |
//! | DER | DER of the certificate | `.cer`, `.crt` |
//! | PEM | PEM, chain optional | `.pem`, `.cer`, `.crt` |
//! | P7B | PKCS#7, chain required | `.p7b` |
//! | PEM with key\* | certificate(s) and the encrypted key | `.pem`, `.cer`, `.crt` |
//! | PFX\* | PKCS#12, modern or legacy profile | `.pfx` |
//! | ZIP\* | certificate, chain and encrypted key as PEM files | `.zip` |
//! | Key only\* | the encrypted PKCS#8 key, PEM | `.key`, `.pem` |
//!
//! \* only for a caller who may export the key. The table is the format
//! matrix's; the exporter checks every request again, so a form sent by
//! hand with another pairing is refused with the matrix's own message.
//!
//! The password is typed twice and compared here; it goes to the exporter
//! and nowhere else: never into a page (the dialog shown again after an
//! error has empty password fields), a log line, a URL (the form is a
//! POST) or a cookie.

use std::fmt::Write as _;

use certexport::formats::{KeyEncryption, PfxProfile};
use certexport::options::{ChainOrder, FileExtension, KeyExport, KeyPlacement};
use certexport::{CertificateFormat, ExportError, ExportRequest, Password};
use serde::Deserialize;

use super::page::esc;

/// One choice of the format list.
struct Choice {
    value: &'static str,
    label: &'static str,
    format: CertificateFormat,
    key: Option<KeyPlacement>,
    extensions: &'static [&'static str],
}

const CHOICES: &[Choice] = &[
    Choice::certificate(
        "PEM",
        "PEM (text, chain optional)",
        CertificateFormat::Pem,
        &["pem", "cer", "crt"],
    ),
    Choice::certificate(
        "CER",
        "CER (PEM text, certificate only)",
        CertificateFormat::Cer,
        &["cer"],
    ),
    Choice::certificate(
        "CRT",
        "CRT (PEM text, certificate only)",
        CertificateFormat::Crt,
        &["crt"],
    ),
    Choice::certificate(
        "DER",
        "DER (binary, certificate only)",
        CertificateFormat::Der,
        &["cer", "crt"],
    ),
    Choice::certificate("P7B", "P7B (PKCS#7 with the chain)", CertificateFormat::P7b, &["p7b"]),
    Choice::with_key(
        "PEM-KEY",
        "PEM with the encrypted private key",
        CertificateFormat::Pem,
        KeyPlacement::WithCertificate,
        &["pem", "cer", "crt"],
    ),
    Choice::with_key(
        "PFX",
        "PFX / PKCS#12 with the private key",
        CertificateFormat::Pfx,
        KeyPlacement::WithCertificate,
        &["pfx"],
    ),
    Choice::with_key(
        "ZIP",
        "ZIP of certificate, chain and encrypted key",
        CertificateFormat::Zip,
        KeyPlacement::WithCertificate,
        &["zip"],
    ),
    Choice::with_key(
        "KEY",
        "The encrypted private key only",
        CertificateFormat::Pem,
        KeyPlacement::KeyOnly,
        &["key", "pem"],
    ),
];

impl Choice {
    const fn certificate(
        value: &'static str,
        label: &'static str,
        format: CertificateFormat,
        extensions: &'static [&'static str],
    ) -> Self {
        Self {
            value,
            label,
            format,
            key: None,
            extensions,
        }
    }

    const fn with_key(
        value: &'static str,
        label: &'static str,
        format: CertificateFormat,
        placement: KeyPlacement,
        extensions: &'static [&'static str],
    ) -> Self {
        Self {
            value,
            label,
            format,
            key: Some(placement),
            extensions,
        }
    }
}

/// The dialog's fields as the browser sends them (checkboxes are absent
/// when unchecked).
#[derive(Deserialize)]
pub(crate) struct DownloadForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    extension: String,
    include_chain: Option<String>,
    #[serde(default)]
    chain_order: String,
    subject_header: Option<String>,
    #[serde(default)]
    profile: String,
    password: Option<String>,
    password_again: Option<String>,
}

/// What the dialog shows again after a refusal (never the password).
#[derive(Default)]
pub(crate) struct Shown {
    format: String,
    extension: String,
    include_chain: bool,
    root_first: bool,
    no_subject_header: bool,
    legacy: bool,
}

impl DownloadForm {
    /// The choices to show again.
    pub(crate) fn shown(&self) -> Shown {
        Shown {
            format: self.format.clone(),
            extension: self.extension.clone(),
            include_chain: self.include_chain.is_some(),
            root_first: self.chain_order == "RootFirst",
            no_subject_header: self.subject_header.is_none(),
            legacy: self.profile == "legacy",
        }
    }

    /// The export the form asks for, onto `request` (which names the
    /// certificate and the scope). A key choice needs `key_allowed`; the
    /// two passwords must match.
    pub(crate) fn into_request(self, mut request: ExportRequest, key_allowed: bool) -> Result<ExportRequest, Refusal> {
        let choice =
            CHOICES
                .iter()
                .find(|c| c.value == self.format)
                .ok_or(Refusal::Export(ExportError::UnknownChoice {
                    option: "format",
                    input: self.format.chars().take(16).collect(),
                    accepted: "one of the dialog's formats",
                }))?;
        request.format = choice.format;
        request.include_chain = self.include_chain.is_some();
        request.include_subject_header = self.subject_header.is_some();
        request.chain_order = if self.chain_order == "RootFirst" {
            ChainOrder::RootFirst
        } else {
            ChainOrder::EndEntityFirst
        };
        if !self.extension.is_empty() {
            request.extension = Some(self.extension.parse::<FileExtension>().map_err(Refusal::Export)?);
        }
        let Some(placement) = choice.key else {
            return Ok(request);
        };
        if !key_allowed {
            return Err(Refusal::Export(ExportError::AccessDenied));
        }
        let password = self
            .password
            .filter(|p| !p.is_empty())
            .ok_or(Refusal::PasswordMissing)?;
        if self.password_again.as_deref() != Some(password.as_str()) {
            return Err(Refusal::PasswordsDiffer);
        }
        let legacy = self.profile == "legacy";
        if legacy {
            request.pfx.profile = PfxProfile::Legacy;
        }
        request.private_key = KeyExport::Encrypted {
            placement,
            password: Password::new(password).map_err(Refusal::Export)?,
            encryption: if legacy {
                KeyEncryption::legacy_pkcs12_triple_des()
            } else {
                KeyEncryption::default()
            },
        };
        Ok(request)
    }
}

/// Why the dialog refused a form.
pub(crate) enum Refusal {
    /// A key choice without a password.
    PasswordMissing,
    /// The two passwords differ.
    PasswordsDiffer,
    /// The exporter's (or the form's) reason.
    Export(ExportError),
}

impl Refusal {
    /// The answer's status: the API's for the exporter's reasons, 400 for
    /// the dialog's own.
    pub(crate) fn status(&self) -> axum::http::StatusCode {
        match self {
            Refusal::PasswordMissing | Refusal::PasswordsDiffer => axum::http::StatusCode::BAD_REQUEST,
            Refusal::Export(e) => axum::http::StatusCode::from_u16(certexport::wire::keyfactor_code(e).0)
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST),
        }
    }

    /// A sentence for the dialog.
    pub(crate) fn sentence(&self) -> String {
        match self {
            Refusal::PasswordMissing => "Type a password for the private key.".to_owned(),
            Refusal::PasswordsDiffer => "The two passwords differ; type them again.".to_owned(),
            Refusal::Export(ExportError::AccessDenied) => "You may not export this.".to_owned(),
            Refusal::Export(e) => certexport::wire::keyfactor_status(e).message,
        }
    }
}

/// The dialog's form for certificate `id`: key choices only when
/// `key_allowed`.
pub(crate) fn render(
    id: u64,
    subject: &str,
    csrf: &str,
    key_allowed: bool,
    shown: &Shown,
    error: Option<&str>,
) -> String {
    let mut html = String::new();
    let _ = write!(html, "<h1>Download</h1><p class=\"subject\">{}</p>", esc(subject));
    if let Some(error) = error {
        let _ = write!(
            html,
            "<p class=\"badge bad\" role=\"alert\" id=\"error\">{}</p>",
            esc(error)
        );
    }
    let _ = write!(
        html,
        "<form method=\"post\" action=\"/console/certificates/{id}/download\" class=\"dialog\" id=\"download\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"format\">Format</label><select id=\"format\" name=\"format\">",
        esc(csrf)
    );
    let selected_format = if shown.format.is_empty() {
        "PEM"
    } else {
        shown.format.as_str()
    };
    for choice in CHOICES.iter().filter(|c| key_allowed || c.key.is_none()) {
        let _ = write!(
            html,
            "<option value=\"{}\" data-extensions=\"{}\" data-key=\"{}\"{}>{}</option>",
            choice.value,
            choice.extensions.join(" "),
            match choice.key {
                None => "none",
                Some(KeyPlacement::KeyOnly) => "only",
                Some(_) => "with",
            },
            if choice.value == selected_format {
                " selected"
            } else {
                ""
            },
            choice.label
        );
    }
    html.push_str(
        "</select><label for=\"extension\">File extension</label><select id=\"extension\" name=\"extension\">",
    );
    let extensions = CHOICES
        .iter()
        .find(|c| c.value == selected_format)
        .map_or(&["pem", "cer", "crt"][..], |c| c.extensions);
    for ext in extensions {
        let selected = if *ext == shown.extension { " selected" } else { "" };
        let _ = write!(html, "<option value=\"{ext}\"{selected}>.{ext}</option>");
    }
    let checked = |on: bool| if on { " checked" } else { "" };
    let _ = write!(
        html,
        "</select>\
         <div class=\"check\"><input type=\"checkbox\" id=\"include_chain\" name=\"include_chain\" value=\"1\"{}>\
         <label for=\"include_chain\">Include the chain</label></div>\
         <fieldset id=\"order\"><legend>Chain order</legend>\
         <div class=\"check\"><input type=\"radio\" id=\"order_ee\" name=\"chain_order\" value=\"EndEntityFirst\"{}>\
         <label for=\"order_ee\">End-entity first</label></div>\
         <div class=\"check\"><input type=\"radio\" id=\"order_root\" name=\"chain_order\" value=\"RootFirst\"{}>\
         <label for=\"order_root\">Root first</label></div></fieldset>\
         <div class=\"check\"><input type=\"checkbox\" id=\"subject_header\" name=\"subject_header\" value=\"1\"{}>\
         <label for=\"subject_header\">Subject line before each PEM certificate</label></div>",
        checked(shown.include_chain || shown.format.is_empty()),
        checked(!shown.root_first),
        checked(shown.root_first),
        checked(!shown.no_subject_header),
    );
    if key_allowed {
        let _ = write!(
            html,
            "<fieldset id=\"key\"><legend>Private key</legend>\
             <div class=\"check\"><input type=\"radio\" id=\"profile_modern\" name=\"profile\" value=\"modern\"{}>\
             <label for=\"profile_modern\">Modern encryption (AES-256)</label></div>\
             <div class=\"check\"><input type=\"radio\" id=\"profile_legacy\" name=\"profile\" value=\"legacy\"{}>\
             <label for=\"profile_legacy\">Legacy encryption (3DES, for Windows Server 2016 and old Java)</label></div>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\">\
             <label for=\"password_again\">Password again</label>\
             <input type=\"password\" id=\"password_again\" name=\"password_again\" autocomplete=\"new-password\">\
             </fieldset>",
            checked(!shown.legacy),
            checked(shown.legacy),
        );
    } else {
        html.push_str(
            "<p class=\"note\">Private-key export is not offered: you may not export this certificate's key.</p>",
        );
    }
    let _ = write!(
        html,
        "<div class=\"actions\"><button type=\"submit\">Download</button>\
         <a class=\"button secondary\" href=\"/console/certificates/{id}\">Cancel</a></div></form>"
    );
    html
}

#[cfg(test)]
mod tests {
    use certexport::ids::CertId;

    use super::*;

    fn form(pairs: &str) -> DownloadForm {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn key_choices_need_the_right_and_two_equal_passwords() {
        let request = || ExportRequest::new(CertId(1));
        let pfx = "csrf=t&format=PFX&password=s3cret&password_again=s3cret";
        assert!(matches!(
            form(pfx).into_request(request(), false),
            Err(Refusal::Export(ExportError::AccessDenied))
        ));
        let ok = form(pfx).into_request(request(), true).ok().unwrap();
        assert_eq!(ok.format, CertificateFormat::Pfx);
        assert!(matches!(
            form("csrf=t&format=PFX&password=a&password_again=b").into_request(request(), true),
            Err(Refusal::PasswordsDiffer)
        ));
        assert!(matches!(
            form("csrf=t&format=KEY&password=").into_request(request(), true),
            Err(Refusal::PasswordMissing)
        ));
    }

    #[test]
    fn certificate_choices_carry_the_options() {
        let r = form("csrf=t&format=PEM&extension=crt&include_chain=1&chain_order=RootFirst")
            .into_request(ExportRequest::new(CertId(1)), false)
            .ok()
            .unwrap();
        assert_eq!(r.format, CertificateFormat::Pem);
        assert_eq!(r.extension, Some(FileExtension::Crt));
        assert!(r.include_chain && !r.include_subject_header);
        assert_eq!(r.chain_order, ChainOrder::RootFirst);
    }

    #[test]
    fn the_dialog_offers_key_export_only_when_allowed() {
        let without = render(1, "CN=x", "t", false, &Shown::default(), None);
        assert!(!without.contains("value=\"PFX\"") && !without.contains("type=\"password\""));
        let with = render(1, "CN=x", "t", true, &Shown::default(), Some("<b>"));
        assert!(with.contains("value=\"PFX\"") && with.contains("&lt;b&gt;"));
    }
}
