"""The OCI image layout `pants package` writes beside the bundle (`oci/`): the artifact and its referrers.

Layout: `oci/oci-layout`, `oci/index.json` and `oci/blobs/sha256/<hex>`. The
index lists the component's manifest (tagged `latest` through
`org.opencontainers.image.ref.name`, for `oras cp --from-oci-layout DIR:latest`)
and each referrer manifest with its `artifactType`, which is how oras and
cosign store referrers in a layout. Every byte is derived from the bundle, so
two builds of the same bundle give the same layout.
"""

from __future__ import annotations

import hashlib
import json
from typing import Mapping

from securesystemslib.signer import Signer

from wasm_attest.component_pipeline import ComponentFiles
from wasm_attest.oci.artifact import OCI_INDEX, Manifest, component_manifest, json_bytes
from wasm_attest.oci.referrers import attestation_referrer, evidence_referrer, oci_statement
from wasm_attest.provenance import PROVENANCE_PREDICATE_TYPE, read_provenance
from wasm_attest.sigstore.bundles import CYCLONEDX_PREDICATE_TYPE

LAYOUT_FOLDER = "oci"
LAYOUT_TAG = "latest"
REF_NAME = "org.opencontainers.image.ref.name"
OCI_LAYOUT_FILE = json_bytes({"imageLayoutVersion": "1.0.0"})


def layout_files(component: Manifest, referrers: tuple[Manifest, ...], *, tag: str = LAYOUT_TAG) -> dict[str, bytes]:
    """`{path under oci/: bytes}` of a layout holding `component` (tagged `tag`) and its `referrers`."""
    entries = [component.descriptor(annotations={REF_NAME: tag})]
    entries += [referrer.descriptor(artifactType=json.loads(referrer.content)["artifactType"]) for referrer in referrers]
    files = {
        "oci-layout": OCI_LAYOUT_FILE,
        "index.json": json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}),
    }
    for manifest in (component, *referrers):
        files[blob_path(manifest.digest)] = manifest.content
        for digest, content in manifest.blobs.items():
            files[blob_path(digest)] = content
    return {f"{LAYOUT_FOLDER}/{path}": content for path, content in sorted(files.items())}


def blob_path(digest: str) -> str:
    """Where a blob lives in a layout, relative to its root."""
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


def bundle_layout_files(
    files: ComponentFiles, bundle: Mapping[str, bytes], *, sbom_signer: Signer, provenance_signer: Signer
) -> dict[str, bytes]:
    """The `oci/` files for a bundle (`{file name: bytes}`, the component and all its attestations).

    The SBOM attestation is signed by `sbom_signer` (the sbom step's
    functionary), the provenance by `provenance_signer` (the package step's);
    their predicates are the delivered SBOM and the provenance's predicate.
    """
    manifest = component_manifest(files.component, bundle[files.component])
    component_sha256 = hashlib.sha256(bundle[files.component]).hexdigest()
    provenance = read_provenance(bundle[files.provenance], origin=files.provenance)[0][1]
    sbom_statement = oci_statement(
        files.component, component_sha256, manifest.digest, CYCLONEDX_PREDICATE_TYPE, json.loads(bundle[files.sbom])
    )
    provenance_statement = oci_statement(
        files.component, component_sha256, manifest.digest, PROVENANCE_PREDICATE_TYPE, provenance["predicate"]
    )
    referrers = (
        attestation_referrer(sbom_statement, sbom_signer, manifest, kind="sbom"),
        attestation_referrer(provenance_statement, provenance_signer, manifest, kind="provenance"),
        evidence_referrer({name: content for name, content in bundle.items() if name != files.component}, manifest),
    )
    return layout_files(manifest, referrers)

