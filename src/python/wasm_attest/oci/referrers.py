"""What is attached to the component's manifest as OCI 1.1 referrers (manifests whose `subject` is it).

- The SBOM and the SLSA provenance, each as a signed in-toto Statement in a
  Sigstore bundle v0.3, in the manifest shape `cosign attest` writes (empty
  config, one bundle layer, `dev.sigstore.bundle.*` annotations), so that
  `cosign verify-attestation --key` and admission controllers accept them.
  cosign compares a subject with the *manifest* digest, while our own
  verifier and every offline tool know the component's digest, so the
  Statement names both. These statements are signed here, by the same
  functionaries who signed the bundle's SBOM and provenance: their
  signatures cannot cover a manifest digest that did not exist yet.
- The in-toto evidence: every file of the bundle except the component (the
  layout, links, keys, lockfile, SBOM, provenance and Sigstore bundles), byte
  for byte, one titled layer each. Pulling it back rebuilds the bundle folder,
  so a registry copy is verified by exactly the offline verification.
"""

from __future__ import annotations

from typing import Any, Mapping

from securesystemslib.signer import Signer

from wasm_attest.oci.artifact import EMPTY_CONFIG, EMPTY_CONFIG_CONTENT, OCI_MANIFEST, TITLE, Manifest, descriptor, json_bytes
from wasm_attest.provenance import STATEMENT_TYPE
from wasm_attest.sigstore.bundles import BUNDLE_MEDIA_TYPE, sign_statement_bundle

EVIDENCE_ARTIFACT_TYPE = "application/vnd.in-toto+json"
EVIDENCE_KIND = "in-toto-evidence"
"""The artifactType of the referrer holding the in-toto layout, links and the other bundle files."""
REFERRER_KIND = "dev.wasm-attest.referrer"
"""Annotation marking our referrers (`sbom`, `provenance`, `in-toto-evidence`): a re-publish replaces exactly
these, and verification reads only these, leaving other tools' referrers (signatures, scans) alone."""
BUNDLE_CONTENT = "dev.sigstore.bundle.content"
BUNDLE_PREDICATE_TYPE = "dev.sigstore.bundle.predicateType"

_MEDIA_TYPES = (
    (".sigstore.json", BUNDLE_MEDIA_TYPE),
    (".cdx.json", "application/vnd.cyclonedx+json"),
    (".pub", "application/x-pem-file"),
    (".lock", "application/toml"),
)
"""Layer media types of evidence files by name ending; anything else (layout, links, DSSE files) is in-toto JSON."""


def manifest_subject_name(component_name: str) -> str:
    """The Statement subject name of the component's OCI manifest (cosign reads only its digest)."""
    return f"{component_name}#oci-manifest"


def oci_statement(
    component_name: str, component_sha256: str, manifest_digest: str, predicate_type: str, predicate: Any
) -> dict[str, Any]:
    """An in-toto Statement v1 about the component and its manifest: both subjects, the given predicate."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": expected_subjects(component_name, component_sha256, manifest_digest),
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def expected_subjects(component_name: str, component_sha256: str, manifest_digest: str) -> list[dict[str, Any]]:
    """The exact subject list a registry attestation must carry: the component, then its manifest."""
    return [
        {"name": component_name, "digest": {"sha256": component_sha256}},
        {"name": manifest_subject_name(component_name), "digest": {"sha256": manifest_digest.split(":", 1)[1]}},
    ]


def attestation_referrer(statement: Mapping[str, Any], signer: Signer, subject: Manifest, *, kind: str) -> Manifest:
    """`statement` signed into a Sigstore bundle, in a referrer manifest shaped as `cosign attest` writes it.

    `kind` (`sbom`, `provenance`) is the `REFERRER_KIND` annotation.
    """
    bundle = sign_statement_bundle(statement, signer)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": BUNDLE_MEDIA_TYPE,
        "config": descriptor(EMPTY_CONFIG, EMPTY_CONFIG_CONTENT),
        "layers": [descriptor(BUNDLE_MEDIA_TYPE, bundle)],
        "subject": subject.descriptor(),
        "annotations": {
            BUNDLE_CONTENT: "dsse-envelope",
            BUNDLE_PREDICATE_TYPE: str(statement["predicateType"]),
            REFERRER_KIND: kind,
        },
    }
    layer = manifest["layers"][0]["digest"]
    return Manifest(json_bytes(manifest), {manifest["config"]["digest"]: EMPTY_CONFIG_CONTENT, layer: bundle})


def evidence_media_type(file_name: str) -> str:
    """The layer media type of an evidence file."""
    return next((media for ending, media in _MEDIA_TYPES if file_name.endswith(ending)), EVIDENCE_ARTIFACT_TYPE)


def evidence_referrer(files: Mapping[str, bytes], subject: Manifest) -> Manifest:
    """The bundle's files (all but the component) as titled layers of one referrer, sorted by name."""
    layers = [
        descriptor(evidence_media_type(name), files[name], annotations={TITLE: name}) for name in sorted(files)
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": EVIDENCE_ARTIFACT_TYPE,
        "config": descriptor(EMPTY_CONFIG, EMPTY_CONFIG_CONTENT),
        "layers": layers,
        "subject": subject.descriptor(),
        "annotations": {REFERRER_KIND: EVIDENCE_KIND},
    }
    blobs = {layer["digest"]: files[layer["annotations"][TITLE]] for layer in layers}
    blobs[manifest["config"]["digest"]] = EMPTY_CONFIG_CONTENT
    return Manifest(json_bytes(manifest), blobs)
