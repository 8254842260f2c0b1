"""Validates certexport's /openapi.json as OpenAPI 3.1, generates a Python
client from it with openapi-python-client, and performs a Download with
that client. Called by tests/openapi.rs:

    openapi_client.py DOC_JSON WORK_DIR BASE_URL CA_PEM TOKEN CERT_ID OUT_FILE

Writes the downloaded file (decoded from the answer's Content) to OUT_FILE
and prints the answer's X-CertificateFile name.
"""

import base64
import importlib
import subprocess
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from openapi_spec_validator.versions import consts, get_spec_version


def main():
    doc_path, work, base, ca, token, cert_id, out_file = sys.argv[1:8]
    document, _ = read_from_filename(doc_path)
    version = get_spec_version(document)
    assert version == consts.OPENAPIV31, f"not OpenAPI 3.1: {version}"
    validate(document)  # raises on any error

    subprocess.run(
        ["openapi-python-client", "generate", "--path", doc_path,
         "--output-path", f"{work}/certexport_client", "--meta", "none"],
        check=True, stdout=subprocess.DEVNULL)
    sys.path.insert(0, work)
    client_module = importlib.import_module("certexport_client.client")
    download = importlib.import_module("certexport_client.api.keyfactor.download")
    models = importlib.import_module("certexport_client.models")

    client = client_module.AuthenticatedClient(base_url=base, token=token, verify_ssl=ca)
    body = models.DownloadRequest(
        cert_id=int(cert_id),
        include_chain=True,
        chain_order=models.DownloadRequestChainOrder.ROOTFIRST,
        include_subject_header=False,
    )
    with client as c:
        response = download.sync_detailed(client=c, body=body, x_certificateformat="PEM")
    assert response.status_code == 200, (response.status_code, response.content)
    answer = response.parsed
    assert isinstance(answer, models.DownloadAnswer), type(answer)
    with open(out_file, "wb") as f:
        f.write(base64.b64decode(answer.content))
    print(response.headers["x-certificatefile"])


if __name__ == "__main__":
    main()
