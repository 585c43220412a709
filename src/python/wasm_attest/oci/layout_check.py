"""Checks an OCI image layout (`oci/` of a bundle, or one pulled from a registry) against the verified bundle.

Called by `wasm_attest.verification` once the bundle's own checks passed, so
"the attested component", "the delivered SBOM" and "the provenance" below are
already verified facts. The layout is hostile input like the rest of the folder:

- every blob's bytes hash to its name, and every file is the layout's
  metadata or a blob some manifest of the index points at;
- the index holds the manifest this very component yields
  (`artifact.component_manifest`, deterministic), so a replaced layer, config
  or manifest is caught, and says which digest differs;
- each referrer names that manifest as its `subject`; a Sigstore bundle
  referrer is signed by a functionary of the step that made its content,
  names exactly the component and the manifest, and attests the delivered
  SBOM or the verified provenance's predicate; the in-toto evidence referrer
  holds the bundle's own files, byte for byte;
- the SBOM, provenance and evidence referrers are all there.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from securesystemslib.signer import SSlibKey

from wasm_attest.bundle_files import BundleFileError, METADATA_SIZE_LIMIT, ARTIFACT_SIZE_LIMIT, read_limited, sha256_limited
from wasm_attest.errors import WasmAttestError
from wasm_attest.oci.artifact import OCI_MANIFEST, TITLE, component_manifest
from wasm_attest.oci.image_layout import blob_path
from wasm_attest.oci.referrers import EVIDENCE_ARTIFACT_TYPE, expected_subjects
from wasm_attest.provenance import PROVENANCE_PREDICATE_TYPE
from wasm_attest.sigstore.bundles import BUNDLE_MEDIA_TYPE, CYCLONEDX_PREDICATE_TYPE, SigstoreBundleError, read_statement_bundle, verify_envelope
from wasm_attest.wasm_sections import WasmFormatError

_BLOB = re.compile(r"blobs/sha256/[0-9a-f]{64}")
_METADATA = ("oci-layout", "index.json")


class OciLayoutError(WasmAttestError):
    """The OCI layout does not hold exactly the verified bundle; `artifact` names the file, `check` the rule."""

    def __init__(self, detail: str, *, artifact: str, check: str):
        self.detail = detail
        self.artifact = artifact
        self.check = check
        super().__init__(detail)


@dataclass(frozen=True)
class Signed:
    """Who may sign an attestation referrer: the step whose product it attests, and that step's keys."""

    step: str
    keys: Sequence[SSlibKey]


@dataclass(frozen=True)
class VerifiedBundle:
    """What the bundle verification established, which the layout must repeat."""

    component_name: str
    component: bytes
    sbom: Any
    """The delivered SBOM, parsed."""
    provenance_predicate: Any
    evidence: Mapping[str, str]
    """`{file name: sha256}` of every bundle file outside `oci/` except the component."""
    sbom_signers: Signed
    provenance_signers: Signed


def check_layout(root: Path, files: Sequence[str], bundle: VerifiedBundle, *, prefix: str = "oci/") -> list[str]:
    """Checks the layout in `root` (whose files, relative to it, are `files`); returns what passed.

    `prefix` is how messages name the layout's folder.
    """
    for name in _METADATA:
        if name not in files:
            raise OciLayoutError(f"the OCI layout has no {name}.", artifact=prefix + name, check="OCI layout complete")
    blobs = _check_blobs(root, files, prefix)
    index = _json(root / "index.json", prefix + "index.json")
    try:
        expected = component_manifest(bundle.component_name, bundle.component)
    except WasmFormatError as error:
        raise OciLayoutError(f"{bundle.component_name} is not a component ({error}).", artifact=bundle.component_name, check="OCI artifact") from None
    entries = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(entries, list):
        raise OciLayoutError("index.json lists no manifests.", artifact=prefix + "index.json", check="OCI layout complete")
    referenced = set()
    manifests = {}
    for entry in entries:
        digest = _digest_of(entry, prefix + "index.json")
        manifests[digest] = _manifest(root, digest, blobs, prefix)
        referenced.add(digest)
    if expected.digest not in manifests:
        raise _wrong_artifact(manifests, expected.digest, bundle, prefix)
    checks = [f"manifest {expected.digest} holds the attested component {bundle.component_name} and its Wasm config"]
    kinds: dict[str, str] = {}
    for digest, manifest in manifests.items():
        referenced.update(_blob_digests(manifest))
        if digest == expected.digest:
            continue
        kind, check = _check_referrer(root, digest, manifest, expected.digest, bundle, prefix)
        if kind in kinds:
            raise OciLayoutError(
                f"it is a second {kind} referrer (the first is {kinds[kind]}); a published build carries one of each.",
                artifact=prefix + blob_path(digest),
                check="one referrer of each kind",
            )
        kinds[kind] = digest
        checks.append(check)
    for kind in ("SBOM", "provenance", "in-toto evidence"):
        if kind not in kinds:
            raise OciLayoutError(
                f"the layout has no {kind} referrer of manifest {expected.digest}; re-run `pants package` (or publish "
                "again) so that every attestation is attached.",
                artifact=prefix + "index.json",
                check="referrers present",
            )
    missing = sorted(referenced - set(blobs))
    if missing:
        raise OciLayoutError(
            f"blob {missing[0]} is referenced but missing ({len(missing)} in all).", artifact=prefix + blob_path(missing[0]), check="OCI layout complete"
        )
    stray = sorted(set(blobs) - referenced)
    if stray:
        raise OciLayoutError(
            "it is a blob no manifest of the index references; nothing vouches for it, so remove it.",
            artifact=prefix + blob_path(stray[0]),
            check="no unreferenced blob",
        )
    checks.append(f"{len(blobs)} blob(s), each hashing to its name and referenced by the index")
    return checks


def _check_blobs(root: Path, files: Sequence[str], prefix: str) -> dict[str, str]:
    """`{digest: path}` of the blobs, each checked to hash to its name; any other file is refused."""
    blobs = {}
    for name in sorted(files):
        if name in _METADATA:
            continue
        if not _BLOB.fullmatch(name):
            raise OciLayoutError(
                "it is neither the layout's metadata nor a sha256 blob; an OCI layout holds nothing else.",
                artifact=prefix + name,
                check="OCI layout shape",
            )
        try:
            actual = sha256_limited(root / name, ARTIFACT_SIZE_LIMIT, name=prefix + name)
        except BundleFileError as error:
            raise OciLayoutError(error.detail, artifact=prefix + name, check=error.check) from None
        expected = name.rsplit("/", 1)[1]
        if actual != expected:
            raise OciLayoutError(
                f"its content hashes to sha256:{actual}, not to its name: the blob was replaced or damaged.",
                artifact=prefix + name,
                check="blob digest",
            )
        blobs[f"sha256:{expected}"] = name
    return blobs


def _json(path: Path, name: str) -> Any:
    try:
        return json.loads(read_limited(path, METADATA_SIZE_LIMIT, name=name))
    except BundleFileError as error:
        raise OciLayoutError(error.detail, artifact=name, check=error.check) from None
    except (ValueError, RecursionError):
        raise OciLayoutError("it is not JSON.", artifact=name, check="OCI layout shape") from None


def _digest_of(entry: Any, origin: str) -> str:
    digest = entry.get("digest") if isinstance(entry, dict) else None
    if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise OciLayoutError(f"it has a descriptor without a sha256 digest: {json.dumps(entry)[:200]}.", artifact=origin, check="OCI layout shape")
    return digest


def _manifest(root: Path, digest: str, blobs: Mapping[str, str], prefix: str) -> dict[str, Any]:
    if digest not in blobs:
        raise OciLayoutError(
            f"the index lists manifest {digest}, which the layout does not hold.", artifact=prefix + blob_path(digest), check="OCI layout complete"
        )
    manifest = _json(root / blobs[digest], prefix + blobs[digest])
    if not isinstance(manifest, dict) or manifest.get("mediaType") != OCI_MANIFEST:
        raise OciLayoutError(f"it is not an OCI image manifest ({OCI_MANIFEST}).", artifact=prefix + blobs[digest], check="OCI layout shape")
    return manifest


def _blob_digests(manifest: Mapping[str, Any]) -> set[str]:
    layers = manifest.get("layers")
    descriptors = [manifest.get("config"), *(layers if isinstance(layers, list) else [])]
    return {_digest_of(descriptor, "a manifest") for descriptor in descriptors}


def _wrong_artifact(manifests: Mapping[str, Any], expected: str, bundle: VerifiedBundle, prefix: str) -> OciLayoutError:
    """The error for a layout whose artifact manifest is not this component's: names the layer it holds instead."""
    component_sha256 = hashlib.sha256(bundle.component).hexdigest()
    for digest, manifest in manifests.items():
        if "subject" in manifest:
            continue
        layers = manifest.get("layers") or [{}]
        layer = layers[0].get("digest") if isinstance(layers[0], dict) else None
        if layer != f"sha256:{component_sha256}":
            what = f"holds layer {layer}, not the attested {bundle.component_name} (sha256:{component_sha256})"
        else:
            what = "holds the attested component, but not with the config and manifest this build yields"
        return OciLayoutError(
            f"the artifact manifest {digest} {what}: it is another build, or was altered. Do not deploy it.",
            artifact=prefix + blob_path(digest),
            check="OCI manifest describes the attested component",
        )
    return OciLayoutError(
        f"the index holds no artifact manifest; expected {expected} for {bundle.component_name}.",
        artifact=prefix + "index.json",
        check="OCI manifest describes the attested component",
    )


def _check_referrer(
    root: Path, digest: str, manifest: Mapping[str, Any], subject: str, bundle: VerifiedBundle, prefix: str
) -> tuple[str, str]:
    """Checks one referrer; returns its kind (`SBOM`, `provenance`, `in-toto evidence`) and what passed."""
    name = prefix + blob_path(digest)
    if not isinstance(manifest.get("subject"), dict) or manifest["subject"].get("digest") != subject:
        raise OciLayoutError(
            f"it is not a referrer of the component's manifest {subject} (its subject is "
            f"{json.dumps(manifest.get('subject'))[:200]}).",
            artifact=name,
            check="referrer subject",
        )
    layers = manifest.get("layers") if isinstance(manifest.get("layers"), list) else []
    if manifest.get("artifactType") == EVIDENCE_ARTIFACT_TYPE:
        return "in-toto evidence", _check_evidence(root, layers, bundle, name, prefix)
    if manifest.get("artifactType") != BUNDLE_MEDIA_TYPE or len(layers) != 1:
        raise OciLayoutError(
            f"it is a referrer of artifactType {manifest.get('artifactType')!r}, which a published wasm-attest build "
            "does not carry; it attests nothing this verification can check.",
            artifact=name,
            check="known referrers only",
        )
    layer_digest = _digest_of(layers[0], name)
    layer_name = prefix + blob_path(layer_digest)
    try:
        parsed = read_statement_bundle(read_limited(root / blob_path(layer_digest), METADATA_SIZE_LIMIT, name=layer_name), origin=layer_name)
    except (BundleFileError, FileNotFoundError):
        raise OciLayoutError("its Sigstore bundle layer is missing or unreadable.", artifact=layer_name, check="OCI layout complete") from None
    except (SigstoreBundleError, binascii.Error) as error:
        raise OciLayoutError(str(error), artifact=layer_name, check="Sigstore bundle format") from None
    predicate_type = parsed.statement.get("predicateType")
    if predicate_type == CYCLONEDX_PREDICATE_TYPE:
        kind, signers, predicate = "SBOM", bundle.sbom_signers, bundle.sbom
    elif predicate_type == PROVENANCE_PREDICATE_TYPE:
        kind, signers, predicate = "provenance", bundle.provenance_signers, bundle.provenance_predicate
    else:
        raise OciLayoutError(f"its predicateType {predicate_type!r} is neither the SBOM's nor the provenance's.", artifact=layer_name, check="known referrers only")
    accepted = verify_envelope(parsed, list(signers.keys))
    if not accepted:
        raise OciLayoutError(
            f"the {kind} attestation is not signed by a functionary the layout authorises for step '{signers.step}': "
            "it was replaced, or signed by another key. Do not deploy this artifact.",
            artifact=layer_name,
            check="referrer signature",
        )
    component_sha256 = hashlib.sha256(bundle.component).hexdigest()
    if parsed.statement.get("subject") != expected_subjects(bundle.component_name, component_sha256, subject):
        raise OciLayoutError(
            f"the {kind} attestation's subject is {json.dumps(parsed.statement.get('subject'))[:300]}, not the component "
            f"(sha256:{component_sha256}) and its manifest {subject}: it attests another build.",
            artifact=layer_name,
            check="referrer attests this artifact",
        )
    if parsed.statement.get("predicate") != predicate:
        raise OciLayoutError(
            f"the {kind} attestation's predicate differs from the bundle's verified {kind}.",
            artifact=layer_name,
            check="referrer attests this artifact",
        )
    return kind, f"{kind} referrer {digest}: signed by {', '.join(accepted)} (step '{signers.step}'), about the component and its manifest, predicate = the bundle's"


def _check_evidence(root: Path, layers: Sequence[Any], bundle: VerifiedBundle, name: str, prefix: str) -> str:
    """The evidence layers are exactly the bundle's files (titled, same sha256)."""
    titled = {}
    for layer in layers:
        title = (layer.get("annotations") or {}).get(TITLE) if isinstance(layer, dict) else None
        titled[title] = _digest_of(layer, name)
    expected = {file_name: f"sha256:{sha256}" for file_name, sha256 in bundle.evidence.items()}
    if titled != expected:
        differing = sorted(set(titled) ^ set(expected)) or sorted(title for title in titled if titled[title] != expected.get(title))
        raise OciLayoutError(
            f"its layers are not the bundle's files byte for byte (first difference: {differing[0]!r}).",
            artifact=name,
            check="in-toto evidence is the bundle's",
        )
    return f"in-toto evidence referrer: the layout, links, keys, lockfile, SBOM and attestations ({len(expected)} files), byte for byte"
