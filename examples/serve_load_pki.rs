//! The generated PKI of the server load benchmark (`benches/serve_load.sh`):
//! writes the root and intermediate (`chain.pem`) and a bundle of `--count`
//! leaves to `target/bench-cache/` with the benches' generator
//! (`benches/support/generate.rs`), and prints, one `key=value` per line,
//! the two paths and the SHA-1 thumbprint of the leaf the benchmark
//! downloads (the middle one).
//!
//! Run: `cargo run --release --example serve_load_pki -- [--count N]` (default 100,000).
#![allow(clippy::unwrap_used)]

#[path = "../benches/support/generate.rs"]
mod generate;

use certexport::ids::Thumbprint;

fn main() {
    let mut count = 100_000u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().and_then(|n| n.parse().ok()).expect("--count N"),
            other => panic!("unknown argument {other:?}; usage: serve_load_pki [--count N]"),
        }
    }
    assert!(count > 0, "--count must be at least 1");
    let pki = generate::BenchPki::new();
    println!("chain={}", generate::chain_pem(&pki).display());
    println!("leaves={}", generate::leaves_bundle(&pki, count).display());
    println!("leaf_sha1={}", Thumbprint::sha1_of(&pki.leaf(count / 2 + 1)));
}
