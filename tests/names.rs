//! File names (SPEC §4) and RFC 4514 subject headers for awkward subjects.
//!
//! Fixtures: tests/data/names (leaves with periods, a wildcard, non-ASCII,
//! no CN, a Windows device name, escapes, a multi-valued RDN, slashes).

#![allow(clippy::unwrap_used)]

mod common;

use certexport::ids::Thumbprint;
use certexport::{ExportRequest, Exporter};
use common::{export, python, settings, store};

/// The artifact of the certificate in `file` of the names store.
fn artifact(file: &str, allow_periods: bool) -> certexport::ExportArtifact {
    let one = certexport::store::MemoryStore::from_path(common::data("names").join(file)).unwrap();
    let (cert, _) = one.iter().next().unwrap();
    let thumbprint = Thumbprint::sha1_of(&cert.der);
    let exporter = Exporter::with_settings(store("names"), settings().with_periods_in_filenames(allow_periods));
    export(&exporter, &ExportRequest::new(thumbprint)).unwrap()
}

#[test]
fn file_names_follow_spec_4() {
    let cases = [
        ("01-periods.pem", true, "www.example.com.pem"),
        ("01-periods.pem", false, "www_example_com.pem"),
        ("02-wildcard.pem", true, "_.example.org.pem"),
        ("02-wildcard.pem", false, "__example_org.pem"),
        ("03-unicode.pem", true, "Zürich Büro.pem"),
        ("05-device.pem", true, "_CON.pem"),
        ("06-escapes.pem", true, "Smith, John + Co _x_.pem"),
        ("07-multi-rdn.pem", true, "multi.example.pem"),
        ("08-slashes.pem", true, "a_b_c_d.pem"),
    ];
    for (file, periods, expected) in cases {
        assert_eq!(
            artifact(file, periods).file_name(),
            expected,
            "{file} periods={periods}"
        );
    }
}

#[test]
fn no_cn_gives_the_sha1_thumbprint() {
    let a = artifact("04-no-cn.pem", true);
    let store = certexport::store::MemoryStore::from_path(common::data("names").join("04-no-cn.pem")).unwrap();
    let (cert, _) = store.iter().next().unwrap();
    assert_eq!(a.file_name(), format!("{}.pem", Thumbprint::sha1_of(&cert.der)));
    assert_eq!(a.file_name().len(), 44);
}

#[test]
fn file_names_are_never_paths() {
    for file in [
        "01-periods.pem",
        "02-wildcard.pem",
        "03-unicode.pem",
        "04-no-cn.pem",
        "05-device.pem",
        "06-escapes.pem",
        "08-slashes.pem",
    ] {
        let name = artifact(file, true).file_name().to_owned();
        assert!(!name.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']), "{name}");
        assert!(!name.starts_with('.'), "{name}");
        assert_eq!(
            std::path::Path::new(&name).file_name().and_then(|n| n.to_str()),
            Some(name.as_str())
        );
    }
}

#[test]
fn subject_headers_escape_as_python_does() {
    for file in [
        "03-unicode.pem",
        "04-no-cn.pem",
        "06-escapes.pem",
        "07-multi-rdn.pem",
        "08-slashes.pem",
    ] {
        let a = artifact(file, true);
        let text = std::str::from_utf8(a.bytes()).unwrap();
        let header = text.lines().next().unwrap().strip_prefix("subject=").unwrap();
        let py = python(common::PY_SUBJECTS_PEM, a.bytes());
        assert_eq!(header, py.trim_end(), "{file}");
        // The header parses back to the same name.
        let dn: certexport::name::DistinguishedName = header.parse().unwrap();
        let again: certexport::name::DistinguishedName = py.trim_end().parse().unwrap();
        assert_eq!(dn.key(), again.key());
    }
}
