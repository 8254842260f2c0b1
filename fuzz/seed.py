#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, fuzz/corpus/<target>/, from
the fixtures in tests/data/ and the examples of SPEC.md, so that every
target starts from inputs that reach deep into what it tests.

    python3 fuzz/seed.py

Deterministic: the same files every run (the script clears each corpus
directory first, but for the `regress-*` files: inputs that once found a
bug, kept so that every run replays them). Committed with its output; run
it again when the fixtures or an input layout change. The layouts of the
`export` and `json_request` inputs are those their targets' doc comments
give.
"""

import base64
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
DATA = FUZZ.parent / "tests" / "data"
CORPUS = FUZZ / "corpus"

# The separator of the two files of a store_file input (fuzz_targets/store_file.rs).
NEXT_FILE = b"\n%%certexport-fuzz-next-file%%\n"


def read(path):
    return (DATA / path).read_bytes()


def pem_bodies(pem):
    """The DER of every PEM block of `pem`, in order."""
    out = []
    lines = pem.decode().splitlines()
    body = None
    for line in lines:
        if line.startswith("-----BEGIN "):
            body = []
        elif line.startswith("-----END "):
            out.append(base64.b64decode("".join(body)))
            body = None
        elif body is not None:
            body.append(line.strip())
    return out


def tlv(der, at=0):
    """(tag, content start, end) of the DER element at `at`."""
    tag = der[at]
    first = der[at + 1]
    if first < 0x80:
        return tag, at + 2, at + 2 + first
    n = first & 0x7F
    length = int.from_bytes(der[at + 2 : at + 2 + n], "big")
    return tag, at + 2 + n, at + 2 + n + length


def children(der, start, end):
    at = start
    while at < end:
        tag, content, stop = tlv(der, at)
        yield at, tag, content, stop
        at = stop


def names(certificate):
    """The DER of the issuer and subject `Name`s of a certificate."""
    _, start, end = tlv(certificate)
    _, tbs_start, tbs_end = tlv(certificate, start)
    fields = [(at, tag, stop) for at, tag, _, stop in children(certificate, tbs_start, tbs_end)]
    if fields[0][1] == 0xA0:  # version
        fields = fields[1:]
    issuer, subject = fields[2], fields[4]
    return [certificate[issuer[0] : issuer[2]], certificate[subject[0] : subject[2]]]


def write(target, seeds):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        if not old.name.startswith("regress-"):
            old.unlink()
    for name, data in seeds:
        (directory / name).write_bytes(data)


def store_file():
    seeds = []
    for path in ["pki/01-root.pem", "pki/04-p256.example.com.pem", "pki/06-ed25519.example.com.pem"]:
        seeds.append((pathlib.Path(path).name, read(path)))
    for path in ["chain.pem", "chain.der", "chain.p7b", "chain.p7b.pem"]:
        seeds.append((path, read("bundles/" + path)))
    for path in ["names/03-unicode.pem", "names/06-escapes.pem", "names/07-multi-rdn.pem"]:
        seeds.append((pathlib.Path(path).name, read(path)))
    # Keys of every form, alone, as DER, and beside their certificates.
    for stem in ["03-rsa.example.com", "04-p256.example.com", "05-p384.example.com", "06-ed25519.example.com"]:
        seeds.append((stem + ".pair", read(f"pki/{stem}.pem") + NEXT_FILE + read(f"pki/{stem}.key")))
    seeds.append(("p256.key", read("pki/04-p256.example.com.key")))
    seeds.append(("p384.key.der", pem_bodies(read("pki/05-p384.example.com.key"))[0]))
    seeds.append(("mismatch.pair", read("keys-mismatch/alpha.pem") + NEXT_FILE + read("keys-mismatch/lonely.key")))
    # A certificate and its key in one file, with a subject header as the crate writes it.
    seeds.append(
        (
            "with-header.pem",
            b"subject=CN=p256.example.com,O=certexport tests,C=US\n"
            + read("pki/04-p256.example.com.pem")
            + read("pki/04-p256.example.com.key"),
        )
    )
    write("store_file", seeds)


def manifest():
    fixture = read("manifest/certexport-store.json")
    entries = json.loads(fixture)["certificates"]
    seeds = [("fixture.json", fixture), ("empty.json", b'{"certificates": []}')]
    with_ids = [
        {"file": "01-root.pem", "id": 7, "uuid": "root-1"},
        {"thumbprint": "7B:2E:04:73:2B:97:03:95:9D:6B:79:5F:BF:38:2E:99:09:C2:41:A5", "uuid": "60b8d6c4e5c7a920d4f4f1f4"},
        {"file": "c.example.com.pem", "collections": [5, 6, 5], "containers": [2]},
        {"file": "c.example.com.pem", "key_policy": {"name": "Production", "private_key_access": False}},
    ]
    seeds.append(("ids-uuids.json", json.dumps({"certificates": with_ids}).encode()))
    seeds.append(("compact.json", json.dumps({"certificates": entries}, separators=(",", ":")).encode()))
    seeds.append(("unknown-field.json", b'{"certificates": [{"file": "01-root.pem", "colour": 1}]}'))
    seeds.append(("id-twice.json", b'{"certificates": [{"file": "01-root.pem", "id": 9}, {"file": "02-intermediate.pem", "id": 9}]}'))
    write("manifest", seeds)


def name():
    strings = [
        "CN=www.example.com,O=Example Corp,C=US",
        "cn = WWW.Example.com , o=example   corp,c=us",
        "C=US, O=Example Corp, CN=www.example.com",
        "OU=Sales+CN=J Smith,DC=example,DC=net",
        'CN=James \\"Jim\\" Smith\\, III,DC=example,DC=net',
        "CN=www.example.com,O=#0c0c4578616d706c6520436f7270,C=US",
        "1.3.6.1.4.1.1466.0=#04024869,O=Test,C=GB",
        "OID.2.5.4.3=device;O=Windows",
        'O="Example, Inc.",L=\\c3\\a9t\\c3\\a9',
        "E=admin@example.com,S=CA,L=San Francisco,SERIALNUMBER=42,emailAddress=a@b.c",
        "CN=\\ leading and trailing\\ ,CN=\\#hash",
    ]
    seeds = [(f"dn-{i:02}.txt", s.encode()) for i, s in enumerate(strings)]
    for path in ["names/03-unicode.pem", "names/06-escapes.pem", "names/07-multi-rdn.pem", "names/08-slashes.pem"]:
        issuer, subject = names(pem_bodies(read(path))[0])
        seeds.append((pathlib.Path(path).stem + ".subject.der", subject))
    seeds.append(("root.issuer.der", names(pem_bodies(read("pki/01-root.pem"))[0])[0]))
    write("name", seeds)


def ids():
    strings = [
        "5fb7ee0633e259dbad0c4c9ae6d38f1a61c7dc25",
        "5F:B7:EE:06:33:E2:59:DB:AD:0C:4C:9A:E6:D3:8F:1A:61:C7:DC:25",
        " 5f b7 ee 06 33 e2 59 db ad 0c 4c 9a e6 d3 8f 1a 61 c7 dc 25 ",
        "ab" * 32,
        "00:8F:01",
        "123",
        "60b8d6c4e5c7a920d4f4f1f4",
        "a-b-c",
    ]
    write("ids", [(f"id-{i:02}.txt", s.encode()) for i, s in enumerate(strings)])


def claims():
    forms = [
        "/certificates/collections/read/",
        "/certificates/collections/read/5/",
        "/certificate_stores/read/",
        "/certificate_stores/read/7/",
        "/certificates/collections/private_key/read/",
        "/certificates/collections/private_key/read/5/",
    ]
    seeds = [(f"claim-{i}.txt", s.encode()) for i, s in enumerate(forms)]
    seeds.append(("file.txt", ("# operator for collection 5\n\n  \n" + "\r\n".join(forms) + "\n").encode()))
    seeds.append(("bad.txt", b"/certificates/collections/read/\n/certificates/collections/read/x/\n"))
    write("claims", seeds)


def json_request():
    def case(password, tail, raw=False, avx=False):
        flags = (1 if raw else 0) | (2 if avx else 0)
        return bytes([flags, len(password.encode())]) + password.encode() + tail.encode()

    tails = [
        ',"CertID":3}',
        ',"Thumbprint":"7B:2E:04:73:2B:97:03:95:9D:6B:79:5F:BF:38:2E:99:09:C2:41:A5","IncludeChain":true}',
        ',"SerialNumber":"1187","IssuerDN":"CN=Manifest Intermediate,O=certexport tests,C=US","ChainOrder":"RootFirst"}',
        ',"CertID":3,"FileExtension":"pfx","FriendlyName":"web","MicrosoftTargetCSP":"x","UseLegacyEncryption":true}',
        ',"CertID":3,"IncludeSubjectHeader":false,"CollectionId":5,"ContainerId":2,"UseLegacyEncryption":false}',
        ',"CertId":3}',
        ',"CertID":"three"}',
        ',"SerialNumber":"xyz"}',
        ',"ChainOrder":"sideways"}',
    ]
    seeds = [(f"request-{i}.bin", case("correct horse battery staple", t)) for i, t in enumerate(tails)]
    seeds.append(("raw-number.bin", case("12345678901", ',"CertID":3}', raw=True)))
    seeds.append(("raw-float.bin", case("1234.5678e3", "}", raw=True)))
    seeds.append(("quote.bin", case('pass"word\\with\u00e9scapes', "}")))
    # AppViewX: {"password": …, "uuId": …}.
    seeds.append(("avx.bin", case("testPassword123", ',"uuId":"60b8d6c4e5c7a920d4f4f1f4"}', avx=True)))
    seeds.append(("avx-zip.bin", case("testPassword123", ',"uuId":"60b8d6c4e5c7a920d4f4f1f4","zip":true}', avx=True)))
    seeds.append(("avx-raw.bin", case("20261124", ',"uuId":"a-b"}', raw=True, avx=True)))
    seeds.append(("avx-bad-uuid.bin", case("testPassword123", ',"uuId":"../etc/passwd"}', avx=True)))
    write("json_request", seeds)


def export():
    # Header bytes (fuzz_targets/export.rs, `Case::read`).
    LOOKUP, TARGET, ALSO, FORMAT, EXTENSION, FLAGS, KEY, ITERATIONS = range(8)
    CLAIMS, COLLECTION, CONTAINER, SETTINGS = 8, 14, 15, 16
    # Claim bytes: kind = b % 6, id = SCOPE_IDS[(b // 6) % 8], SCOPE_IDS = [5, 6, 2, 3, 0, 1, 7, 100].
    ALL_CERTS, ALL_STORES, ALL_KEYS = 6, 2, 4
    COLL_5, KEYS_5, COLL_6 = 1, 5, 7
    CONT_2, CONT_3 = 2 * 6 + 3, 3 * 6 + 3
    # Scope bytes: 0 none, else SCOPE_IDS[b - 1].
    SCOPE_5, SCOPE_6, SCOPE_2, SCOPE_3 = 1, 2, 3, 4
    PEM_FORMAT, DER_FORMAT, P7B_FORMAT, PFX_FORMAT, ZIP_FORMAT = 3, 2, 4, 5, 6
    # Settings bits: partial chains, root left out, no periods, CSPs not allowed, the AppViewX rule.
    ANY_COLLECTION = 16
    KEY_WITH_CERT, KEY_ONLY, DANGER_WITH_CERT, DANGER_ONLY = 1, 2, 3, 4
    CHAIN, ROOT_FIRST, NO_HEADERS, P7B_PEM, LEGACY_KEY, LEGACY_PFX, FRIENDLY, CSP = (1 << i for i in range(8))
    # Lookup targets: CertId from CERT_IDS = [1, 2, 3, 4, 100, 5, 99, ...]; others index
    # root, intermediate, a, b, c (5: none).
    A, B, C = 2, 3, 4

    def case(claims=(), texts=(), **fields):
        header = [0] * 17
        slots = {"lookup": LOOKUP, "target": TARGET, "also": ALSO, "format": FORMAT, "extension": EXTENSION,
                 "flags": FLAGS, "key": KEY, "iterations": ITERATIONS, "collection": COLLECTION,
                 "container": CONTAINER, "settings": SETTINGS}
        for field, value in fields.items():
            header[slots[field]] = value
        for i, claim in enumerate(claims):
            header[CLAIMS + i] = claim
        return bytes(header) + b"\xff".join(t.encode() for t in texts)

    password = ("", "correct horse battery staple")
    seeds = {
        "admin-pem": case(claims=[ALL_CERTS], target=A, format=PEM_FORMAT),
        "admin-der-by-sha1": case(claims=[ALL_STORES], lookup=1, target=B, format=DER_FORMAT),
        "admin-p7b-chain": case(claims=[ALL_CERTS], lookup=2, target=C, format=P7B_FORMAT, flags=CHAIN | ROOT_FIRST),
        "admin-pfx": case(claims=[ALL_CERTS, ALL_KEYS], target=A, format=PFX_FORMAT, key=KEY_WITH_CERT,
                          texts=password + ("web", "Microsoft Enhanced RSA and AES Cryptographic Provider"),
                          flags=CHAIN | FRIENDLY | CSP),
        "admin-legacy-pfx": case(claims=[ALL_CERTS, ALL_KEYS], target=4, format=PFX_FORMAT, key=KEY_WITH_CERT,
                                 flags=LEGACY_KEY | LEGACY_PFX, texts=password),
        "collection-key-only": case(claims=[COLL_5, KEYS_5], target=A, format=PEM_FORMAT, key=KEY_ONLY,
                                    collection=SCOPE_5, texts=password),
        "collection-pem-with-key": case(claims=[COLL_5, KEYS_5], lookup=4, target=A, format=PEM_FORMAT,
                                        key=KEY_WITH_CERT, collection=SCOPE_5, flags=CHAIN, texts=password),
        "restricted-key": case(claims=[ALL_CERTS, ALL_KEYS, COLL_5, KEYS_5], target=3, format=PEM_FORMAT,
                               key=KEY_ONLY, collection=SCOPE_5, texts=password),
        "danger-der": case(claims=[ALL_CERTS, ALL_KEYS], target=A, format=DER_FORMAT, key=DANGER_ONLY),
        "danger-pem": case(claims=[ALL_CERTS, ALL_KEYS], target=4, format=PEM_FORMAT, key=DANGER_WITH_CERT),
        "container": case(claims=[CONT_3], target=4, format=PEM_FORMAT, container=SCOPE_3),
        "container-not-theirs": case(claims=[CONT_2], target=4, format=PEM_FORMAT, container=SCOPE_2),
        "collection-not-theirs": case(claims=[COLL_6], target=A, collection=SCOPE_6, format=DER_FORMAT),
        "scoped-missing": case(claims=[COLL_5], lookup=1, target=5, collection=SCOPE_5, format=PEM_FORMAT),
        "issuer-serial": case(claims=[ALL_CERTS], lookup=3, target=A, format=PEM_FORMAT),
        "issuer-serial-reversed": case(claims=[ALL_CERTS], lookup=3, target=0x80 | A, format=PEM_FORMAT),
        "uuid": case(claims=[COLL_5], lookup=4, target=A, collection=SCOPE_5, format=PEM_FORMAT),
        "conflict": case(claims=[ALL_CERTS], target=A, also=1 + 0 + 5 * 3, format=PEM_FORMAT),
        "text-thumbprint": case(claims=[ALL_CERTS], lookup=5, target=0, format=PEM_FORMAT,
                                texts=("7B:2E:04:73:2B:97:03:95:9D:6B:79:5F:BF:38:2E:99:09:C2:41:A5",)),
        "text-issuer-serial": case(claims=[COLL_5], lookup=5, target=2, collection=SCOPE_5, format=PEM_FORMAT,
                                   texts=("11:87|C=US, O=certexport tests, CN=Manifest Intermediate",)),
        "partial-no-root": case(claims=[ALL_CERTS], target=A, format=PEM_FORMAT, flags=CHAIN | NO_HEADERS,
                                settings=1 | 2 | 4),
        "zip": case(claims=[ALL_CERTS, ALL_KEYS], target=A, format=ZIP_FORMAT, key=KEY_WITH_CERT, flags=CHAIN,
                    texts=password),
        "avx-category-key": case(claims=[COLL_5, KEYS_5], lookup=4, target=A, format=PEM_FORMAT, key=KEY_ONLY,
                                 settings=ANY_COLLECTION, texts=password),
        "avx-category-zip": case(claims=[ALL_CERTS, KEYS_5], lookup=4, target=A, format=ZIP_FORMAT,
                                 key=KEY_WITH_CERT, settings=ANY_COLLECTION, texts=password),
        "avx-category-other": case(claims=[COLL_6, KEYS_5], lookup=4, target=C, format=PEM_FORMAT, key=KEY_ONLY,
                                   settings=ANY_COLLECTION, texts=password),
        "avx-category-missing": case(claims=[COLL_5, KEYS_5], lookup=4, target=5, format=PEM_FORMAT, key=KEY_ONLY,
                                     settings=ANY_COLLECTION, texts=password),
        "csp-not-allowed": case(claims=[ALL_CERTS, ALL_KEYS], target=A, format=PFX_FORMAT, key=KEY_WITH_CERT,
                                flags=CSP, texts=password + ("", "Some Other CSP")),
    }
    write("export", sorted(seeds.items()))


def der_reader():
    seeds = []
    for path in ["pki/01-root.pem", "pki/03-rsa.example.com.pem", "pki/04-p256.example.com.pem",
                 "pki/06-ed25519.example.com.pem", "names/07-multi-rdn.pem", "algorithms/03b-rsa-pss-sha256-leaf.pem"]:
        seeds.append((pathlib.Path(path).stem + ".der", pem_bodies(read(path))[0]))
    write("der_reader", seeds)


def pem_decoder():
    seeds = []
    for path in ["pki/01-root.pem", "pki/06-ed25519.example.com.pem", "bundles/chain.p7b.pem"]:
        text = read(path)
        body = text[text.index(b"\n") + 1 :]  # from the line after BEGIN, with the END line
        seeds.append((pathlib.Path(path).stem + ".body", body))
    for i, text in enumerate([b"Zg==\n", b"Zm9v\nYmFy\n", b"Zh==", b" Zm9v\r\n YmFy \r\n", b"Zm9vY\nmFy\n-----END X-----\n"]):
        seeds.append((f"small-{i}.body", text))
    write("pem_decoder", seeds)


def pbkdf2():
    # iterations, output length, password length, then password and salt:
    # passwords under, at and over the 64-byte block, two-block outputs.
    seeds = []
    for i, (iterations, out_len, password, salt) in enumerate(
        [(1, 31, b"passwd", b"salt"), (2, 95, b"p" * 64, b"NaCl"), (5, 63, b"q" * 65, b""), (0, 0, b"", b"s" * 40)]
    ):
        seeds.append((f"seed-{i}", bytes([iterations, out_len, len(password)]) + password + salt))
    write("pbkdf2", seeds)


def search_query():
    # Byte 0: sort and direction; byte 1: page size and page; then the
    # query (fuzz_targets/search_query.rs): the shapes of tests/search.rs.
    queries = [
        'CN -contains "ETA"',
        'IssuedCN -ne "Alpha-0.Example.com" AND CN -notnull',
        'DN -contains "widgets\\, inc" OR IssuerDN -startswith "cn=other"',
        'SerialNumber -eq "01:00:81" OR Thumbprint -endswith "0"',
        'DNSName -eq "WWW.gamma.test.net" OR SAN -notcontains "www"',
        'NotAfter -le "%TODAY+30%" AND NotBefore -ge %TODAY-30%',
        'NotAfter -eq "2027-02-20" OR IssuedDate -lt "2026-12-20T00:00:00Z"',
        'KeyType -eq "ecc" AND KeySizeInBits -ge 384',
        'HasPrivateKey -eq true AND Uuid -isnull',
        'CollectionId -eq 5 OR (ContainerId -notnull AND CertId -gt 10)',
        '(CN -contains "alpha" OR CN -contains "beta") AND (KeyType -eq "RSA" OR HasPrivateKey -eq false)',
        'CN -contains "100%_"',
        "",
    ]
    seeds = [(f"query-{i:02}", bytes([i % 16, (i * 37) % 256]) + q.encode()) for i, q in enumerate(queries)]
    write("search_query", seeds)


if __name__ == "__main__":
    for make in [
        store_file, manifest, name, ids, claims, json_request, export, der_reader, pem_decoder, pbkdf2, search_query
    ]:
        make()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    count = sum(1 for f in CORPUS.rglob("*") if f.is_file())
    print(f"{count} seed files, {total} bytes, in {CORPUS}")
