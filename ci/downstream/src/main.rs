//! certexport used as a dependency: one real export from the demo store
//! (`examples/data/demo`), through the crate's public API only, checked
//! the way a user would check it. Exits non-zero when anything is off.

use std::path::Path;
use std::process::ExitCode;

use certexport::ids::Thumbprint;
use certexport::options::ChainOrder;
use certexport::store::MemoryStore;
use certexport::{Caller, CertificateFormat, ExportRequest, Exporter};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("downstream export failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/demo");
    let store = MemoryStore::from_path(&demo)?;
    let thumbprint = store
        .iter()
        .find(|(cert, _)| String::from_utf8_lossy(&cert.der).contains("www.example.com"))
        .map(|(cert, _)| Thumbprint::sha1_of(&cert.der))
        .ok_or("www.example.com is not in the demo store")?;
    let exporter = Exporter::new(store);
    let caller = Caller::single_tenant_full_access();

    // PEM with its chain: leaf, issuing CA, root CA.
    let mut request = ExportRequest::new(thumbprint);
    request.format = CertificateFormat::Pem;
    request.include_chain = true;
    let pem = exporter.export(&caller, &request)?;
    let blocks = String::from_utf8(pem.bytes().to_vec())?
        .matches("-----BEGIN CERTIFICATE-----")
        .count();
    expect("PEM file name", pem.file_name(), "www.example.com.pem")?;
    expect("PEM certificate count", pem.certificate_count(), 3)?;
    expect("PEM certificate blocks", blocks, 3)?;

    // The same chain as a DER P7B, root first.
    request.format = CertificateFormat::P7b;
    request.chain_order = ChainOrder::RootFirst;
    let p7b = exporter.export(&caller, &request)?;
    expect("P7B file name", p7b.file_name(), "www.example.com.p7b")?;
    expect("P7B content type", p7b.content_type(), "application/pkcs7-mime")?;
    expect("P7B certificate count", p7b.certificate_count(), 3)?;
    expect("P7B first byte (DER SEQUENCE)", p7b.bytes().first(), Some(&0x30))?;

    println!(
        "downstream export ok: {} ({} certificates, {} bytes), {} ({} certificates, {} bytes)",
        pem.file_name(),
        pem.certificate_count(),
        pem.bytes().len(),
        p7b.file_name(),
        p7b.certificate_count(),
        p7b.bytes().len(),
    );
    Ok(())
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}
