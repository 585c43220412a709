"""Rebuilding a bundle folder from a published artifact, so the offline verification can judge it unchanged.

The source is a registry (`Registry`) or a local OCI layout folder
(`LocalLayout`, e.g. `oras cp --to-oci-layout` output or `dist/<target>/oci`).
From the artifact's manifest and its referrers it writes:

- the component (the manifest's `application/wasm` layer, under its title);
- every file of the in-toto evidence referrer (layout, links, keys, lockfile,
  SBOM, provenance, Sigstore bundles), under its title;
- `oci/`: an image layout of exactly the manifests and blobs fetched.

Nothing is trusted here: names must be plain file names, sizes are capped,
every manifest and blob is checked against its digest on arrival, and the
result goes through `verify_attestations` like any downloaded bundle. A tag is
resolved to a digest once, here, and everything after uses the digest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wasm_attest.bundle_files import ARTIFACT_SIZE_LIMIT, FILE_COUNT_LIMIT, METADATA_SIZE_LIMIT, BundleFileError, read_limited
from wasm_attest.errors import WasmAttestError
from wasm_attest.oci.artifact import OCI_INDEX, OCI_MANIFEST, TITLE, WASM_LAYER, json_bytes, sha256_digest
from wasm_attest.oci.image_layout import LAYOUT_FOLDER, OCI_LAYOUT_FILE, REF_NAME, blob_path
from wasm_attest.oci.referrers import EVIDENCE_ARTIFACT_TYPE, EVIDENCE_KIND, REFERRER_KIND
from wasm_attest.sigstore.bundles import BUNDLE_MEDIA_TYPE

REFERRER_LIMIT = 64
"""Referrers read per artifact: ours are three; a flood of them is refused, not downloaded."""
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class FetchError(WasmAttestError):
    """The published artifact cannot be turned into a bundle folder; the message names what and where."""


class Source(Protocol):
    """Where manifests, blobs and referrers come from."""

    def manifest(self, reference: str, *, limit: int) -> bytes: ...

    def blob(self, digest: str, *, limit: int) -> bytes: ...

    def referrers(self, digest: str, *, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Fetched:
    """The artifact that was fetched: its digest (what to pin), and the tag it was found under, if any."""

    digest: str
    tag: str | None
    component: str


class LocalLayout:
    """An OCI image layout folder as a `Source`: blobs by digest, tags from `index.json`, referrers by `subject`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        try:
            self.index = json.loads(read_limited(self.folder / "index.json", METADATA_SIZE_LIMIT, name="index.json"))
            self.entries = [entry for entry in self.index["manifests"] if isinstance(entry, dict)]
        except (BundleFileError, OSError, ValueError, KeyError, TypeError):
            raise FetchError(f"{self.folder} is not an OCI image layout (no readable index.json listing manifests).") from None

    def __str__(self) -> str:
        return str(self.folder)

    def manifest(self, reference: str, *, limit: int) -> bytes:
        if not _DIGEST.fullmatch(reference):
            tagged = [entry for entry in self.entries if entry.get("annotations", {}).get(REF_NAME) == reference]
            if len(tagged) != 1:
                raise FetchError(f"{self.folder}: index.json has {len(tagged)} manifests tagged {reference!r}; expected one.")
            reference = str(tagged[0].get("digest"))
        return self.blob(reference, limit=limit)

    def blob(self, digest: str, *, limit: int) -> bytes:
        if not _DIGEST.fullmatch(digest):
            raise FetchError(f"{self.folder}: {digest!r} is not a sha256 digest.")
        try:
            content = read_limited(self.folder / blob_path(digest), limit, name=f"{self.folder}/{blob_path(digest)}")
        except (BundleFileError, OSError):
            raise FetchError(f"{self.folder}: blob {digest} is missing or unreadable.") from None
        if sha256_digest(content) != digest:
            raise FetchError(f"{self.folder}: blob {digest} holds other bytes ({sha256_digest(content)}): it was replaced.")
        return content

    def referrers(self, digest: str, *, limit: int) -> list[dict[str, Any]]:
        found = []
        for entry in self.entries:
            if "artifactType" not in entry or not _DIGEST.fullmatch(str(entry.get("digest"))):
                continue
            manifest = json.loads(self.blob(entry["digest"], limit=limit))
            if isinstance(manifest.get("subject"), dict) and manifest["subject"].get("digest") == digest:
                found.append(entry)
        return found

    def default_tag(self) -> str:
        """The tag of the layout's only tagged manifest (what `pants package` writes)."""
        tags = [entry["annotations"][REF_NAME] for entry in self.entries if REF_NAME in entry.get("annotations", {})]
        if len(tags) != 1:
            raise FetchError(f"{self.folder}: index.json tags {len(tags)} manifests; name one with FOLDER:TAG.")
        return str(tags[0])


def fetch_bundle(source: Source, reference: str, destination: Path) -> Fetched:
    """Writes the bundle published at `reference` (tag or digest) of `source` into the empty folder `destination`."""
    digest = reference if _DIGEST.fullmatch(reference) else sha256_digest(source.manifest(reference, limit=METADATA_SIZE_LIMIT))
    tag = None if reference == digest else reference
    content = source.manifest(digest, limit=METADATA_SIZE_LIMIT)
    manifest = _manifest(content, f"{source}@{digest}")
    layers = manifest.get("layers") or []
    if len(layers) != 1 or not isinstance(layers[0], dict) or layers[0].get("mediaType") != WASM_LAYER:
        raise FetchError(f"{source}@{digest} is not a Wasm component artifact (one {WASM_LAYER} layer).")
    files: dict[str, bytes] = {}
    layout: dict[str, bytes] = {blob_path(digest): content}
    component = _title(layers[0], f"{source}@{digest}")
    files[component] = _fetch_blobs(source, manifest, layout, ARTIFACT_SIZE_LIMIT)[layers[0]["digest"]]
    entries = [{"mediaType": OCI_MANIFEST, "digest": digest, "size": len(content), "annotations": {REF_NAME: tag or digest}}]
    descriptors = source.referrers(digest, limit=METADATA_SIZE_LIMIT)
    if len(descriptors) > REFERRER_LIMIT:
        raise FetchError(f"{source}@{digest} has {len(descriptors)} referrers; more than {REFERRER_LIMIT} are refused.")
    kinds: set[str] = set()
    for descriptor in descriptors:
        if descriptor.get("artifactType") not in (BUNDLE_MEDIA_TYPE, EVIDENCE_ARTIFACT_TYPE):
            continue  # others' referrers (signatures, scans) are not ours to judge
        referrer_digest = str(descriptor.get("digest"))
        referrer_content = source.manifest(referrer_digest, limit=METADATA_SIZE_LIMIT)
        referrer = _manifest(referrer_content, f"{source}@{referrer_digest}")
        kind = (referrer.get("annotations") or {}).get(REFERRER_KIND)
        if kind is None:
            continue  # another tool's attestation of the same shape (e.g. `cosign attest`): not ours to judge
        kinds.add(str(kind))
        layout[blob_path(referrer_digest)] = referrer_content
        blobs = _fetch_blobs(source, referrer, layout, METADATA_SIZE_LIMIT)
        entries.append({"mediaType": OCI_MANIFEST, "digest": referrer_digest, "size": len(referrer_content), "artifactType": descriptor["artifactType"]})
        if descriptor["artifactType"] == EVIDENCE_ARTIFACT_TYPE:
            for layer in referrer.get("layers") or []:
                name = _title(layer, f"{source}@{referrer_digest}")
                if name in files:
                    raise FetchError(f"{source}@{referrer_digest}: two files named {name!r}.")
                files[name] = blobs[layer["digest"]]
    missing = sorted({"sbom", "provenance", EVIDENCE_KIND} - kinds)
    if missing:
        raise FetchError(
            f"{source}@{digest} ({component}) has no {', '.join(missing)} referrer from wasm-attest: it was pushed without "
            "its attestations, or they were removed, so nothing vouches for it. Do not deploy it; publish the build "
            "with `pants publish` (or `wasm-attest push`)."
        )
    layout["index.json"] = json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    layout["oci-layout"] = OCI_LAYOUT_FILE
    _write(destination, files, layout)
    return Fetched(digest=digest, tag=tag, component=component)


def _manifest(content: bytes, origin: str) -> dict[str, Any]:
    try:
        manifest = json.loads(content)
    except ValueError:
        raise FetchError(f"{origin} is not JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("mediaType") != OCI_MANIFEST:
        raise FetchError(f"{origin} is not an OCI image manifest.")
    return manifest


def _fetch_blobs(source: Source, manifest: dict[str, Any], layout: dict[str, bytes], limit: int) -> dict[str, bytes]:
    """Fetches the manifest's config and layers into `layout`; returns them by digest."""
    fetched = {}
    for descriptor in (manifest.get("config"), *(manifest.get("layers") or [])):
        digest = str(descriptor.get("digest")) if isinstance(descriptor, dict) else ""
        if not _DIGEST.fullmatch(digest):
            raise FetchError(f"a manifest names a blob without a sha256 digest: {json.dumps(descriptor)[:200]}.")
        if len(layout) > FILE_COUNT_LIMIT:
            raise FetchError(f"the artifact has more than {FILE_COUNT_LIMIT} blobs; refused.")
        fetched[digest] = source.blob(digest, limit=limit)
        layout[blob_path(digest)] = fetched[digest]
    return fetched


def _title(layer: Any, origin: str) -> str:
    name = (layer.get("annotations") or {}).get(TITLE) if isinstance(layer, dict) else None
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name) or name == LAYOUT_FOLDER:
        raise FetchError(f"{origin}: a layer's title {name!r} is not a plain file name; refused.")
    return name


def _write(destination: Path, files: dict[str, bytes], layout: dict[str, bytes]) -> None:
    for name, content in files.items():
        (destination / name).write_bytes(content)
    for name, content in layout.items():
        path = destination / LAYOUT_FOLDER / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
