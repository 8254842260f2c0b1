//! Loads the demo store shipped in `examples/data/demo` and exports one
//! certificate three ways: DER, PEM with its chain, and a P7B bundle,
//! then its key as a password-encrypted PKCS#8 PEM.
//!
//! Run: `cargo run --example quickstart` (files go to `target/quickstart/`).

use std::path::Path;

use certexport::formats::KeyEncryption;
use certexport::ids::Thumbprint;
use certexport::options::{ChainOrder, KeyExport, KeyPlacement};
use certexport::store::MemoryStore;
use certexport::{Caller, CertificateFormat, ExportRequest, Exporter, Password};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/demo");
    let store = MemoryStore::from_path(&demo)?;
    println!("demo store: {} certificates", store.len());

    // Find www.example.com's SHA-1 thumbprint, the way a caller would have it.
    let thumbprint = store
        .iter()
        .find(|(cert, _)| String::from_utf8_lossy(&cert.der).contains("www.example.com"))
        .map(|(cert, _)| Thumbprint::sha1_of(&cert.der))
        .ok_or("www.example.com is not in the demo store")?;

    let exporter = Exporter::new(store);
    // The quick start serves one tenant: it may export anything.
    let caller = Caller::single_tenant_full_access();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/quickstart");
    std::fs::create_dir_all(&out)?;

    let mut der = ExportRequest::new(thumbprint);
    der.format = CertificateFormat::Der;

    let mut pem = ExportRequest::new(thumbprint);
    pem.include_chain = true;

    let mut p7b = ExportRequest::new(thumbprint);
    p7b.format = CertificateFormat::P7b;
    p7b.include_chain = true;
    p7b.chain_order = ChainOrder::RootFirst;

    let mut key = ExportRequest::new(thumbprint);
    key.private_key = KeyExport::Encrypted {
        placement: KeyPlacement::KeyOnly,
        password: Password::new("demo password")?,
        encryption: KeyEncryption::default(),
    };

    for request in [der, pem, p7b, key] {
        let artifact = exporter.export(&caller, &request)?;
        let path = out.join(artifact.file_name());
        std::fs::write(&path, artifact.bytes())?;
        println!(
            "wrote {} ({}, {} bytes, {} certificate(s){})",
            path.display(),
            artifact.content_type(),
            artifact.bytes().len(),
            artifact.certificate_count(),
            if artifact.contains_private_key() {
                ", encrypted key"
            } else {
                ""
            },
        );
    }
    Ok(())
}
