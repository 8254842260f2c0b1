#!/usr/bin/env python3
"""Generates every certificate fixture of the test suite and the demo store.

Run from the repository root:  python3 tests/data/make_fixtures.py
It rewrites tests/data/<case>/ and examples/data/demo/. Needs Python
`cryptography` (>= 41). Keys are fresh on every run, so the committed output
is the fixture; the tests never depend on a particular key.

Validity: most certificates run 2020-01-01 .. 2099-12-31; the tests judge
validity at a fixed time, 2030-01-01T00:00:00Z (1893456000), never the clock.
Each directory is one store; files are numbered so store ids are predictable.
"""

import datetime as dt
import json
import pathlib
import shutil
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
DEMO = ROOT / "examples" / "data" / "demo"

START = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
END = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
ORG = "certexport tests"

_serial = 0x1000


def next_serial():
    global _serial
    _serial += 1
    return _serial


def name(cn=None, org=ORG, extra=()):
    attrs = []
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "US"))
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.extend(extra)
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def p256():
    return ec.generate_private_key(ec.SECP256R1())


def p384():
    return ec.generate_private_key(ec.SECP384R1())


def p521():
    return ec.generate_private_key(ec.SECP521R1())


def ed():
    return ed25519.Ed25519PrivateKey.generate()


def default_hash(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]
    return hashes.SHA256()


def cert(
    subject,
    subject_key,
    issuer=None,
    issuer_key=None,
    ca=False,
    start=START,
    end=END,
    ski=True,
    aki=True,
    hash_alg="default",
    rsa_padding=None,
    serial=None,
    issuer_ski_key=None,
):
    """A certificate of `subject_key`, signed by `issuer_key` (self-signed if None)."""
    issuer = issuer or subject
    signer = issuer_key or subject_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(serial or next_serial())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
        )
    if aki:
        aki_key = (issuer_ski_key or signer).public_key()
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_key), critical=False
        )
    if not ca and subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        cn = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        if cn.isascii() and " " not in cn and "," not in cn:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    algorithm = default_hash(signer) if hash_alg == "default" else hash_alg
    if rsa_padding is not None:
        return builder.sign(signer, algorithm, rsa_padding=rsa_padding)
    return builder.sign(signer, algorithm)


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM)


def write(directory, filename, data):
    path = directory / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def key_pem(key, form="pkcs8"):
    fmt = {
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
    }[form]
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def fresh(directory):
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


def make_pki():
    """tests/data/pki: a root, an intermediate, leaves of every key type with their keys."""
    d = fresh(DATA / "pki")
    root_key, int_key = rsa_key(), rsa_key()
    root_name, int_name = name("Test Root CA"), name("Test Intermediate CA")
    root = cert(root_name, root_key, ca=True)
    inter = cert(int_name, int_key, root_name, root_key, ca=True)
    write(d, "01-root.pem", pem(root))
    write(d, "02-intermediate.pem", pem(inter))
    leaves = [
        ("03-rsa.example.com", rsa_key(), "traditional"),  # RSA PRIVATE KEY (PKCS#1)
        ("04-p256.example.com", p256(), "traditional"),  # EC PRIVATE KEY (SEC1)
        ("05-p384.example.com", p384(), "pkcs8"),
        ("06-ed25519.example.com", ed(), "pkcs8"),
        ("07-p521.example.com", p521(), "pkcs8"),
    ]
    for stem, key, form in leaves:
        cn = stem.split("-", 1)[1]
        leaf = cert(name(cn), key, int_name, int_key)
        write(d, f"{stem}.pem", pem(leaf))
        write(d, f"{stem}.key", key_pem(key, form))
    write(d, "08-nokey.example.com.pem", pem(cert(name("nokey.example.com"), p256(), int_name, int_key)))
    # The chain as P7B bundles, DER and PEM, end-entity first, for the loaders.
    # openssl crl2pkcs7 keeps the file's order (cryptography's serializer sorts it).
    leaf = x509.load_pem_x509_certificate((d / "03-rsa.example.com.pem").read_bytes())
    bundle = fresh(DATA / "bundles")
    chain = write(bundle, "chain.pem", pem(leaf) + pem(inter) + pem(root))
    for filename, form in [("chain.p7b", "DER"), ("chain.p7b.pem", "PEM")]:
        subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(chain), "-outform", form,
                        "-out", str(bundle / filename)], check=True)
    write(bundle, "chain.der", leaf.public_bytes(serialization.Encoding.DER))


def make_algorithms():
    """tests/data/algorithms: one root and one leaf per signature algorithm."""
    d = fresh(DATA / "algorithms")
    pss = lambda h: padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
    cases = [
        ("rsa-sha256", rsa_key, hashes.SHA256(), None),
        ("rsa-sha384", rsa_key, hashes.SHA384(), None),
        ("rsa-sha512", rsa_key, hashes.SHA512(), None),
        ("rsa-pss-sha256", rsa_key, hashes.SHA256(), pss(hashes.SHA256())),
        ("rsa-pss-sha512", rsa_key, hashes.SHA512(), pss(hashes.SHA512())),
        ("p256-sha256", p256, hashes.SHA256(), None),
        ("p384-sha384", p384, hashes.SHA384(), None),
        ("p521-sha512", p521, hashes.SHA512(), None),
        ("p256-sha384", p256, hashes.SHA384(), None),
        ("ed25519", ed, None, None),
    ]
    for i, (alg, make_key, h, pad) in enumerate(cases):
        root_key = make_key()
        root_name = name(f"{alg} Root")
        root = cert(root_name, root_key, ca=True, hash_alg=h, rsa_padding=pad)
        leaf = cert(name(f"{alg}.leaf.example"), p256(), root_name, root_key, hash_alg=h, rsa_padding=pad)
        write(d, f"{i:02d}a-{alg}-root.pem", pem(root))
        write(d, f"{i:02d}b-{alg}-leaf.pem", pem(leaf))
    # cryptography no longer signs with SHA-1; old roots did, so openssl makes this pair.
    root, leaf = sha1_pair()
    write(d, f"{len(cases):02d}a-rsa-sha1-root.pem", root)
    write(d, f"{len(cases):02d}b-rsa-sha1-leaf.pem", leaf)


def sha1_pair():
    """An RSA root and a leaf, both signed with sha1WithRSAEncryption by openssl."""
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        (t / "root.key").write_bytes(key_pem(rsa_key()))
        (t / "leaf.key").write_bytes(key_pem(p256()))
        (t / "ext.cnf").write_text(
            "[root]\nbasicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=hash\n"
            "[leaf]\nbasicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n"
        )
        run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=t)
        run("req", "-new", "-x509", "-sha1", "-key", "root.key", "-subj", f"/C=US/O={ORG}/CN=rsa-sha1 Root",
            "-days", "29000", "-set_serial", str(next_serial()), "-config", "ext.cnf", "-extensions", "root",
            "-out", "root.pem")
        run("req", "-new", "-key", "leaf.key", "-subj", f"/C=US/O={ORG}/CN=rsa-sha1.leaf.example", "-out", "leaf.csr")
        run("x509", "-req", "-sha1", "-in", "leaf.csr", "-CA", "root.pem", "-CAkey", "root.key",
            "-set_serial", str(next_serial()), "-days", "29000", "-extfile", "ext.cnf", "-extensions", "leaf",
            "-out", "leaf.pem")
        return (t / "root.pem").read_bytes(), (t / "leaf.pem").read_bytes()


def make_names():
    """tests/data/names: leaves whose subjects test file names and RFC 4514 output."""
    d = fresh(DATA / "names")
    root_key = p256()
    root_name = name("Names Root")
    write(d, "00-root.pem", pem(cert(root_name, root_key, ca=True)))
    subjects = [
        ("01-periods", name("www.example.com")),
        ("02-wildcard", name("*.example.org")),
        ("03-unicode", name("Zürich Büro")),
        ("04-no-cn", name(None, org="No CN Org")),
        ("05-device", name("CON")),
        ("06-escapes", name("Smith, John + Co <x>")),
        ("07-multi-rdn", x509.Name([
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")]),
            x509.RelativeDistinguishedName([
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops"),
                x509.NameAttribute(NameOID.COMMON_NAME, "multi.example"),
            ]),
        ])),
        ("08-slashes", name("a/b\\c:d")),
    ]
    for stem, subject in subjects:
        write(d, f"{stem}.pem", pem(cert(subject, p256(), root_name, root_key)))


def make_rollover():
    """tests/data/rollover: two CAs with one subject and different keys; the
    old one is preferred by validity, but the new one signed the leaves."""
    d = fresh(DATA / "rollover")
    old, new = rsa_key(), rsa_key()
    ca = name("Rollover CA")
    write(d, "01-ca-old.pem", pem(cert(ca, old, ca=True, end=END)))
    write(d, "02-ca-new.pem", pem(cert(ca, new, ca=True, start=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc),
                                       end=dt.datetime(2090, 1, 1, tzinfo=dt.timezone.utc))))
    write(d, "03-leaf-aki.pem", pem(cert(name("with-aki.example.com"), p256(), ca, new)))
    write(d, "04-leaf-no-aki.pem", pem(cert(name("no-aki.example.com"), p256(), ca, new, aki=False)))


def make_renewed():
    """tests/data/renewed: one CA key, two copies; the first expired at 2025."""
    d = fresh(DATA / "renewed")
    key = rsa_key()
    ca = name("Renewed CA")
    write(d, "01-ca-expired.pem", pem(cert(ca, key, ca=True, start=dt.datetime(2015, 1, 1, tzinfo=dt.timezone.utc),
                                           end=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))))
    write(d, "02-ca-valid.pem", pem(cert(ca, key, ca=True, start=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))))
    write(d, "03-leaf.pem", pem(cert(name("renewed-leaf.example.com"), p256(), ca, key)))


def make_cross():
    """tests/data/cross and cross-both: an intermediate cross-signed by two
    roots. The copy under root B lives longer, so it is preferred; in
    `cross` root B is absent and the builder must fall back to root A."""
    root_a_key, root_b_key, int_key = rsa_key(), rsa_key(), p256()
    root_a, root_b, inter = name("Cross Root A"), name("Cross Root B"), name("Cross Intermediate")
    files = {
        "01-root-a.pem": pem(cert(root_a, root_a_key, ca=True)),
        "02-root-b.pem": pem(cert(root_b, root_b_key, ca=True)),
        "03-int-by-a.pem": pem(cert(inter, int_key, root_a, root_a_key, ca=True,
                                    end=dt.datetime(2080, 1, 1, tzinfo=dt.timezone.utc))),
        "04-int-by-b.pem": pem(cert(inter, int_key, root_b, root_b_key, ca=True,
                                    end=dt.datetime(2095, 1, 1, tzinfo=dt.timezone.utc))),
        "05-leaf.pem": pem(cert(name("cross-leaf.example.com"), p256(), inter, int_key)),
    }
    for directory, skip in [(DATA / "cross", "02-root-b.pem"), (DATA / "cross-both", None)]:
        d = fresh(directory)
        for filename, data in files.items():
            if filename != skip:
                write(d, filename, data)


def make_loop():
    """tests/data/loop: X certifies Y and Y certifies X; neither is self-signed."""
    d = fresh(DATA / "loop")
    kx, ky = p256(), p256()
    nx, ny = name("Loop X"), name("Loop Y")
    write(d, "01-x.pem", pem(cert(nx, kx, ny, ky, ca=True)))
    write(d, "02-y.pem", pem(cert(ny, ky, nx, kx, ca=True)))
    write(d, "03-leaf.pem", pem(cert(name("loop-leaf.example.com"), p256(), nx, kx)))


def make_deep():
    """tests/data/deep: a root and 9 intermediates (10 issuers: the default
    depth limit) above leaf-9, and 12 intermediates above leaf-12."""
    d = fresh(DATA / "deep")
    for depth in (9, 12):
        key = p256()
        issuer = name(f"Deep{depth} Root")
        write(d, f"d{depth:02d}-00-root.pem", pem(cert(issuer, key, ca=True)))
        for level in range(1, depth + 1):
            sub_key, sub = p256(), name(f"Deep{depth} Level {level}")
            write(d, f"d{depth:02d}-{level:02d}-int.pem", pem(cert(sub, sub_key, issuer, key, ca=True)))
            key, issuer = sub_key, sub
        write(d, f"d{depth:02d}-99-leaf.pem", pem(cert(name(f"leaf-{depth}.example.com"), p256(), issuer, key)))


def make_missing():
    """tests/data/missing: root, intermediate 2 and the leaf; intermediate 1,
    between intermediate 2 and the root, is absent."""
    d = fresh(DATA / "missing")
    root_key, k1, k2 = p256(), p256(), p256()
    root, i1, i2 = name("Gap Root"), name("Gap Intermediate 1"), name("Gap Intermediate 2")
    write(d, "01-root.pem", pem(cert(root, root_key, ca=True)))
    write(d, "02-int2.pem", pem(cert(i2, k2, i1, k1, ca=True)))
    write(d, "03-leaf.pem", pem(cert(name("gap-leaf.example.com"), p256(), i2, k2)))


def make_crowded():
    """tests/data/crowded: 300 CAs named "Crowded CA" with different keys; the
    one that signed the leaves comes last. leaf-aki names it by key id;
    leaf-no-aki does not, so finding it takes more than the signature budget."""
    d = fresh(DATA / "crowded")
    ca = name("Crowded CA")
    for i in range(300):
        write(d, f"ca-{i:03d}.pem", pem(cert(ca, p256(), ca=True)))
    real = p256()
    write(d, "ca-999-real.pem", pem(cert(ca, real, ca=True)))
    write(d, "leaf-aki.pem", pem(cert(name("crowded-aki.example.com"), p256(), ca, real)))
    write(d, "leaf-no-aki.pem", pem(cert(name("crowded-no-aki.example.com"), p256(), ca, real, aki=False)))


def make_keys():
    """tests/data/keys-mismatch: alpha.key holds beta's key, so it is named for
    a certificate it does not match; lonely.key matches nothing."""
    d = fresh(DATA / "keys-mismatch")
    root_key = p256()
    root = name("Keys Root")
    alpha_key, beta_key = p256(), p256()
    write(d, "00-root.pem", pem(cert(root, root_key, ca=True)))
    write(d, "alpha.pem", pem(cert(name("alpha.example.com"), alpha_key, root, root_key)))
    write(d, "alpha.key", key_pem(beta_key))
    write(d, "beta.pem", pem(cert(name("beta.example.com"), beta_key, root, root_key)))
    write(d, "lonely.key", key_pem(p256()))


def make_manifest():
    """tests/data/manifest: a store with collections, containers, key policies,
    a fixed id and uuIds, given by certexport-store.json."""
    d = fresh(DATA / "manifest")
    root_key, int_key = p256(), p256()
    root, inter = name("Manifest Root"), name("Manifest Intermediate")
    write(d, "01-root.pem", pem(cert(root, root_key, ca=True)))
    write(d, "02-intermediate.pem", pem(cert(inter, int_key, root, root_key, ca=True)))
    leaves = {}
    for stem in ["a.example.com", "b.example.com", "c.example.com"]:
        key = p256()
        leaf = cert(name(stem), key, inter, int_key)
        leaves[stem] = leaf
        write(d, f"{stem}.pem", pem(leaf))
        write(d, f"{stem}.key", key_pem(key))
    manifest = {
        "certificates": [
            {"file": "a.example.com.pem", "collections": [5], "containers": [2],
             "key_policy": {"name": "Standard", "private_key_access": True},
             "uuid": "60b8d6c4e5c7a920d4f4f1f4"},
            {"thumbprint": leaves["b.example.com"].fingerprint(hashes.SHA1()).hex(), "id": 100,
             "collections": [6], "containers": [3], "uuid": "b-0001"},
            {"file": "c.example.com.pem", "collections": [5],
             "key_policy": {"name": "Production", "private_key_access": False},
             "uuid": "c-0001"},
        ]
    }
    write(d, "certexport-store.json", (json.dumps(manifest, indent=2) + "\n").encode())


def make_demo():
    """examples/data/demo: the quick-start store."""
    d = fresh(DEMO)
    root_key, int_key = rsa_key(), p384()
    root = name("Demo Root CA", org="certexport demo")
    inter = name("Demo Issuing CA", org="certexport demo")
    write(d, "00-root-ca.pem", pem(cert(root, root_key, ca=True)))
    write(d, "01-issuing-ca.pem", pem(cert(inter, int_key, root, root_key, ca=True)))
    www = rsa_key()
    write(d, "10-www.example.com.pem", pem(cert(name("www.example.com", org="certexport demo"), www, inter, int_key)))
    write(d, "10-www.example.com.key", key_pem(www))
    api = p256()
    write(d, "11-api.example.com.pem", pem(cert(name("api.example.com", org="certexport demo"), api, inter, int_key)))
    write(d, "11-api.example.com.key", key_pem(api, "traditional"))
    write(d, "12-wildcard.example.org.pem",
          pem(cert(name("*.example.org", org="certexport demo"), p256(), inter, int_key)))


if __name__ == "__main__":
    make_pki()
    make_algorithms()
    make_names()
    make_rollover()
    make_renewed()
    make_cross()
    make_loop()
    make_deep()
    make_missing()
    make_crowded()
    make_keys()
    make_manifest()
    make_demo()
    print("fixtures written to", DATA, "and", DEMO)
