#!/usr/bin/env python3
"""Python `cryptography`'s time to load and index a PEM certificate bundle.

The twin of `cargo bench --bench load`: read the file, parse every
certificate with `x509.load_pem_x509_certificates`, and index them in a
dict by SHA-1 fingerprint (the minimum a thumbprint lookup needs).
Runs `--repeat` times (default 5) and reports the median, per
certificate, as `us_per_certificate=<float>` so the bench can read it.

Usage: python3 benches/python_load.py target/bench-cache/v1/leaves-100000.pem [--repeat N]
"""

import argparse
import statistics
import time

from cryptography import __version__ as cryptography_version
from cryptography import x509
from cryptography.hazmat.primitives import hashes


def load_and_index(path):
    with open(path, "rb") as f:
        data = f.read()
    certificates = x509.load_pem_x509_certificates(data)
    sha1 = hashes.SHA1()
    return {cert.fingerprint(sha1): cert for cert in certificates}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    times = []
    count = 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        index = load_and_index(args.bundle)
        times.append(time.perf_counter() - start)
        count = len(index)
        del index
    median = statistics.median(times)
    print(
        f"python cryptography {cryptography_version}: {count} certificates, "
        f"median {median:.3f} s of {args.repeat} runs (min {min(times):.3f} s)"
    )
    print(f"us_per_certificate={median / count * 1e6:.3f}")


if __name__ == "__main__":
    main()
