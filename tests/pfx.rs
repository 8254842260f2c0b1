mod common;

use certexport::*;

fn go(name: &str, cn: &str, profile: PfxProfile, pw: &str, iters: u32, csp: Option<&str>, fname: Option<&str>, order: ChainOrder) {
    let mut s = common::settings();
    s.csps = CspPolicy { allow: true, names: vec!["Microsoft Enhanced RSA and AES Cryptographic Provider".into()] };
    let exporter = Exporter::with_settings(common::store("pki"), s);
    let t = common::by_cn(exporter.store(), cn);
    let mut req = ExportRequest::new(t);
    req.format = CertificateFormat::Pfx;
    req.include_chain = true;
    req.chain_order = order;
    req.private_key = KeyExport::Encrypted { placement: KeyPlacement::WithCertificate, password: Password::new(pw).unwrap(), encryption: KeyEncryption::default() };
    req.pfx.profile = profile;
    req.pfx.iterations = iters;
    req.pfx.target_csp = csp.map(Into::into);
    req.pfx.friendly_name = fname.map(Into::into);
    let start = std::time::Instant::now();
    let a = common::export(&exporter, &req);
    eprintln!("{name}: {:?} in {:?}", a.as_ref().map(|a| a.bytes().len()), start.elapsed());
    if let Ok(a) = a {
        std::fs::write(format!("/tmp/pfxdump/{name}.pfx"), a.bytes()).unwrap();
    }
}

#[test]
fn dump() {
    std::fs::create_dir_all("/tmp/pfxdump").unwrap();
    go("it0-modern", "rsa.example.com", PfxProfile::Modern, "pw", 0, None, None, ChainOrder::EndEntityFirst);
    go("it0-legacy", "rsa.example.com", PfxProfile::Legacy, "pw", 0, None, None, ChainOrder::EndEntityFirst);
    go("it1-modern", "rsa.example.com", PfxProfile::Modern, "pw", 1, None, None, ChainOrder::EndEntityFirst);
    go("itbig-modern", "rsa.example.com", PfxProfile::Modern, "pw", 3_000_000_000, None, None, ChainOrder::EndEntityFirst);
    go("itbig-legacy", "rsa.example.com", PfxProfile::Legacy, "pw", 3_000_000_000, None, None, ChainOrder::EndEntityFirst);
    go("csp-modern", "rsa.example.com", PfxProfile::Modern, "pw", 2048, Some("Microsoft Enhanced RSA and AES Cryptographic Provider"), Some("My Alias"), ChainOrder::RootFirst);
    go("csp-legacy", "rsa.example.com", PfxProfile::Legacy, "pw", 2048, Some("Microsoft Enhanced RSA and AES Cryptographic Provider"), Some("Zürich ключ"), ChainOrder::RootFirst);
    go("uni-modern", "p256.example.com", PfxProfile::Modern, "pässwörd€", 2048, None, None, ChainOrder::EndEntityFirst);
    go("uni-legacy", "p256.example.com", PfxProfile::Legacy, "pässwörd€", 2048, None, None, ChainOrder::EndEntityFirst);
    go("p521-modern", "p521.example.com", PfxProfile::Modern, "pw", 2048, None, None, ChainOrder::EndEntityFirst);
    go("ed-legacy", "ed25519.example.com", PfxProfile::Legacy, "pw", 2048, None, None, ChainOrder::EndEntityFirst);
}
