//! The result of an export: bytes, file name, MIME type.

use std::fmt;

use zeroize::Zeroizing;

use crate::ids::CertId;
use crate::name;
use crate::request::{CertificateFormat, FileExtension};

use crate::name::is_display_spoofing;

/// An exported file.
///
/// The bytes of an artifact that holds a key (encrypted or not) are wiped
/// when it is dropped; those of certificates alone, which are public, are
/// not (wiping a PEM certificate cost a fifth of its export). `Debug`
/// shows their length, never their content.
pub struct ExportArtifact {
    pub(crate) bytes: Vec<u8>,
    pub(crate) certificate_id: CertId,
    pub(crate) file_name: String,
    pub(crate) format: CertificateFormat,
    pub(crate) extension: FileExtension,
    pub(crate) content_type: &'static str,
    pub(crate) certificates: usize,
    pub(crate) contains_private_key: bool,
}

impl ExportArtifact {
    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file's bytes, taken out (zeroized when dropped, whatever they hold).
    pub fn into_bytes(mut self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(std::mem::take(&mut self.bytes))
    }

    /// The bytes base64-encoded, as the reference API returns `Content`.
    /// An artifact holding a key (even encrypted) is encoded by a
    /// constant-time codec (`base64ct`), so its timing tells nothing of
    /// the bytes; certificates take the `base64` crate's faster one.
    pub fn to_base64(&self) -> Zeroizing<String> {
        if self.contains_private_key {
            use base64ct::Encoding;
            Zeroizing::new(base64ct::Base64::encode_string(&self.bytes))
        } else {
            use base64::Engine;
            Zeroizing::new(crate::formats::pem::public_engine().encode(&self.bytes))
        }
    }

    /// The store id of the certificate exported (the end entity of a
    /// chain), for audit records.
    pub fn certificate_id(&self) -> CertId {
        self.certificate_id
    }

    /// The file name (the reference API's `X-CertificateFile`): a plain
    /// name, never a path.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The format that was asked for.
    pub fn format(&self) -> CertificateFormat {
        self.format
    }

    /// The file extension.
    pub fn extension(&self) -> FileExtension {
        self.extension
    }

    /// The MIME type.
    pub fn content_type(&self) -> &'static str {
        self.content_type
    }

    /// How many certificates the file holds.
    pub fn certificate_count(&self) -> usize {
        self.certificates
    }

    /// Whether the file holds a private key (encrypted or not).
    pub fn contains_private_key(&self) -> bool {
        self.contains_private_key
    }
}

impl Drop for ExportArtifact {
    fn drop(&mut self) {
        if self.contains_private_key {
            use zeroize::Zeroize;
            self.bytes.zeroize();
        }
    }
}

impl fmt::Debug for ExportArtifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportArtifact")
            .field("certificate_id", &self.certificate_id)
            .field("file_name", &self.file_name)
            .field("format", &self.format)
            .field("content_type", &self.content_type)
            .field("certificates", &self.certificates)
            .field("contains_private_key", &self.contains_private_key)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Longest stem, in bytes, before the extension.
const MAX_STEM: usize = 200;

/// The file-name stem of a certificate: its subject CN made safe, or its
/// SHA-1 thumbprint (lower-case hex) if it has no usable CN.
///
/// - `\ / : * ? " < > |`, control characters and the invisible
///   characters that reorder or break displayed text (bidirectional
///   controls such as U+202E, line and paragraph separators, zero-width
///   characters) become `_` (so the wildcard `*.example.org` gives
///   `_.example.org`);
/// - with `allow_periods` false, every `.` becomes `_`;
/// - surrounding white space is dropped, and a leading `.` becomes `_`
///   (no hidden files);
/// - a Windows device name (`CON`, `NUL`, `COM1`, `CONIN$`, …, which
///   Windows reserves whatever the extension) gets a leading `_`;
/// - at most 200 bytes, cut at a character boundary.
pub(crate) fn file_stem(subject: &[u8], sha1_hex: impl FnOnce() -> String, allow_periods: bool) -> String {
    let cn = name::common_name(subject).unwrap_or_default();
    let unsafe_char = |c: char| {
        matches!(c, '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control() || is_display_spoofing(c)
    };
    let cn = cn.trim();
    let mut stem: String = if allow_periods && !cn.contains(unsafe_char) {
        cn.to_owned()
    } else {
        cn.chars()
            .map(|c| match c {
                c if unsafe_char(c) => '_',
                '.' if !allow_periods => '_',
                c => c,
            })
            .collect()
    };
    if stem.starts_with('.') {
        stem.replace_range(..1, "_");
    }
    if stem.len() > MAX_STEM {
        let cut = (0..=MAX_STEM).rev().find(|&i| stem.is_char_boundary(i)).unwrap_or(0);
        stem.truncate(cut);
    }
    let stem = stem.trim_end().to_owned();
    if stem.is_empty() {
        return sha1_hex();
    }
    if is_windows_device_name(&stem) {
        format!("_{stem}")
    } else {
        stem
    }
}

/// Whether Windows reserves `stem` as a device: the part before the first
/// `.`, without trailing spaces, is CON, PRN, AUX, NUL, CONIN$, CONOUT$,
/// COM0–9 or LPT0–9 (superscript digits included), in any case.
fn is_windows_device_name(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or_default().trim_end();
    if base.eq_ignore_ascii_case("CONIN$") || base.eq_ignore_ascii_case("CONOUT$") {
        return true;
    }
    let (prefix, rest) = base.split_at(base.char_indices().nth(3).map_or(base.len(), |(i, _)| i));
    let is = |word: &str| prefix.eq_ignore_ascii_case(word);
    match rest {
        "" => is("CON") || is("PRN") || is("AUX") || is("NUL"),
        "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³" => is("COM") || is("LPT"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(cn: &str, periods: bool) -> String {
        use der::Encode;
        use der::asn1::{Any, SetOfVec, Utf8StringRef};
        let atv = x509_cert::attr::AttributeTypeAndValue {
            oid: crate::oid::COMMON_NAME,
            value: Any::encode_from(&Utf8StringRef::new(cn).unwrap()).unwrap(),
        };
        let rdn = x509_cert::name::RelativeDistinguishedName::from(SetOfVec::try_from(vec![atv]).unwrap());
        let subject = x509_cert::name::RdnSequence::from(vec![rdn]).to_der().unwrap();
        file_stem(&subject, || "abc123".into(), periods)
    }

    #[test]
    fn names_files_as_spec_4() {
        assert_eq!(stem("www.example.com", true), "www.example.com");
        assert_eq!(stem("www.example.com", false), "www_example_com");
        assert_eq!(stem("*.example.org", true), "_.example.org");
        assert_eq!(stem("a\\b/c:d*e?f\"g<h>i|j\u{7}k", true), "a_b_c_d_e_f_g_h_i_j_k");
        assert_eq!(stem("Zürich Büro", true), "Zürich Büro");
        assert_eq!(stem("", true), "abc123");
        assert_eq!(stem("   ", true), "abc123");
        assert_eq!(stem("..", true), "_.");
        assert_eq!(stem(".hidden", true), "_hidden");
        assert_eq!(stem("../../etc/passwd", true), "_._.._etc_passwd");
        assert_eq!(stem("invoice\u{202e}gpj.exe", true), "invoice_gpj.exe");
        assert_eq!(stem("a\u{2028}b\u{200b}c", true), "a_b_c");
    }

    #[test]
    fn avoids_windows_device_names() {
        for reserved in [
            "CON",
            "con",
            "nul.example.com",
            "COM1",
            "lpt9",
            "AUX ",
            "CONIN$",
            "conout$.x",
        ] {
            assert!(stem(reserved, true).starts_with('_'), "{reserved}");
        }
        for fine in ["console", "COM10", "company.com", "lpt"] {
            assert!(!stem(fine, true).starts_with('_'), "{fine}");
        }
    }

    #[test]
    fn cuts_long_names_at_a_character_boundary() {
        let long = "é".repeat(150);
        let s = stem(&long, true);
        assert!(s.len() <= MAX_STEM && s.chars().all(|c| c == 'é'));
    }
}
