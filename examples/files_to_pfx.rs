//! Recipe: a chain and its key from files, out as a PKCS#12 (PFX) file and
//! a root-first PEM chain.
//!
//! Run from the crate's root: `cargo run --example files_to_pfx`.

use certexport::formats::{self, ChainOrder, PfxOptions, SubjectHeaders};
use certexport::{Password, PrivateKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A chain as a TLS server holds it (end entity first), and its key.
    let chain = formats::read_certificates(&std::fs::read("tests/data/bundles/chain.pem")?)?;
    let key = PrivateKey::from_pem(std::fs::read("tests/data/pki/03-rsa.example.com.key")?)?;
    let password = Password::new("correct horse battery staple")?;

    // PKCS#12 as OpenSSL 3 writes it (AES-256-CBC, HMAC-SHA256); salts and
    // IVs come from the operating system's random source.
    let options = PfxOptions::default().with_friendly_name("rsa.example.com");
    let pfx = formats::pfx(&key, &chain, &password, &options)?;

    // The same chain as PEM, root first, without `subject=` lines.
    let pem = formats::pem_chain(&chain, ChainOrder::RootFirst, SubjectHeaders::Omit)?;

    let out = std::env::temp_dir();
    std::fs::write(out.join("rsa.example.com.pfx"), &pfx)?;
    std::fs::write(out.join("rsa.example.com-chain.pem"), &pem)?;
    println!(
        "wrote rsa.example.com.pfx ({} bytes) and rsa.example.com-chain.pem to {}",
        pfx.len(),
        out.display()
    );
    Ok(())
}
