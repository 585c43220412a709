"""Registry I/O through oras-py (the ORAS project's client): pushing a layout, reading manifests, blobs and referrers.

oras-py does the protocol's plumbing: the session, the token and basic
authentication dance, Docker credentials (`~/.docker/config.json` or
`$DOCKER_CONFIG`, `credsStore`, `credHelpers`), blob uploads and retries. Three
things it lacks are built on its `do_request`:

- manifests are sent as the exact bytes of the layout (its `upload_manifest`
  re-serialises JSON, which would change the digest every attestation names);
- the OCI 1.1 Referrers API (`GET /v2/<repo>/referrers/<digest>`);
- the referrers tag schema for registries without that API (Distribution
  2.8): an image index tagged `sha256-<hex>` listing the referrers, which is
  what oras and cosign read and write there. Pushing merges our referrers into
  any index already there and rewrites it only if something is new, so
  publishing the same build again changes nothing.

Credentials never appear in a message: errors name the registry, the
repository and the HTTP status only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import oras.container
import oras.provider
import requests

from wasm_attest.errors import WasmAttestError
from wasm_attest.oci.artifact import OCI_INDEX, OCI_MANIFEST, json_bytes, sha256_digest
from wasm_attest.oci.image_layout import REF_NAME, blob_path
from wasm_attest.oci.referrers import REFERRER_KIND

REQUEST_TIMEOUT = 60.0
"""Seconds one HTTP request may take."""
_MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX)


class RegistryError(WasmAttestError):
    """A registry refused or failed a request; the message names the registry, repository and status."""


@dataclass(frozen=True)
class Pushed:
    """What a push did: the artifact's digest, the tags set, and how the referrers were attached."""

    digest: str
    tags: tuple[str, ...]
    referrers: tuple[str, ...]
    referrers_via: str
    """`referrers API` or `referrers tag sha256-…` (the fallback for registries without the API)."""


def referrers_tag(digest: str) -> str:
    """The tag of the referrers index for `digest` on registries without the Referrers API."""
    return digest.replace(":", "-")


class Registry:
    """One repository on one registry. `insecure` = plain HTTP (a local test registry, never a real one)."""

    def __init__(self, registry: str, repository: str, *, insecure: bool = False):
        self.registry = registry
        self.repository = repository
        self._client = oras.provider.Registry(hostname=registry, insecure=insecure)
        self._client.session.request = _with_timeout(self._client.session.request)
        self._container = oras.container.Container(f"{registry}/{repository}", registry=registry)
        self._client.auth.load_configs(self._container)
        self._base = f"{self._client.prefix}://{registry}/v2/{repository}"

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}"

    # Reading

    def manifest(self, reference: str, *, limit: int) -> bytes:
        """The manifest or index at `reference` (a tag or a digest) as raw bytes; a digest is checked against them."""
        response = self._request("GET", f"{self._base}/manifests/{reference}", headers={"Accept": ", ".join(_MANIFEST_TYPES)})
        if response.status_code != 200:
            raise self._error(f"manifest {reference}", response)
        content = _limited(response, limit, f"{self}: manifest {reference}")
        if reference.startswith("sha256:") and sha256_digest(content) != reference:
            raise RegistryError(f"{self}: the registry answered manifest {reference} with other bytes ({sha256_digest(content)}).")
        return content

    def blob(self, digest: str, *, limit: int) -> bytes:
        """The blob `digest`, checked against its digest."""
        response = self._request("GET", f"{self._base}/blobs/{digest}", stream=True)
        if response.status_code != 200:
            raise self._error(f"blob {digest}", response)
        content = _limited(response, limit, f"{self}: blob {digest}")
        if sha256_digest(content) != digest:
            raise RegistryError(f"{self}: the registry answered blob {digest} with other bytes ({sha256_digest(content)}).")
        return content

    def referrers(self, digest: str, *, limit: int) -> list[dict[str, Any]]:
        """The descriptors of `digest`'s referrers: from the Referrers API, else from the `sha256-<hex>` tag; [] if none."""
        response = self._request("GET", f"{self._base}/referrers/{digest}", headers={"Accept": OCI_INDEX})
        if response.status_code == 200 and response.headers.get("Content-Type", "").startswith(OCI_INDEX):
            return _manifests_of(_limited(response, limit, f"{self}: referrers of {digest}"))
        return self._fallback_referrers(digest, limit=limit)

    # Writing

    def push_layout(self, layout: Path, tags: Sequence[str]) -> Pushed:
        """Pushes the layout's artifact, its referrers and `tags`; idempotent. Returns what was done."""
        try:
            entries = json.loads((layout / "index.json").read_bytes())["manifests"]
            artifact = next(entry for entry in entries if REF_NAME in entry.get("annotations", {}))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
            raise RegistryError(f"{layout} is not the OCI layout `pants package` writes (index.json with a tagged artifact).") from None
        referrers = [entry for entry in entries if entry is not artifact]
        for entry in (artifact, *referrers):
            self._push_manifest(layout, entry)
        via = self._attach_referrers(artifact["digest"], referrers, layout)
        content = (layout / blob_path(artifact["digest"])).read_bytes()
        for tag in tags:
            self._put_manifest(tag, content, OCI_MANIFEST)
        return Pushed(artifact["digest"], tuple(tags), tuple(entry["digest"] for entry in referrers), via)

    def _push_manifest(self, layout: Path, entry: dict[str, Any]) -> None:
        content = (layout / blob_path(entry["digest"])).read_bytes()
        manifest = json.loads(content)
        for descriptor in (manifest["config"], *manifest["layers"]):
            self._push_blob(layout, descriptor)
        self._put_manifest(entry["digest"], content, OCI_MANIFEST)

    def _push_blob(self, layout: Path, descriptor: dict[str, Any]) -> None:
        if self._client.blob_exists(descriptor, self._container):
            return
        response = self._client.upload_blob(str(layout / blob_path(descriptor["digest"])), self._container, descriptor)
        if response.status_code not in (200, 201, 202):
            raise self._error(f"upload of blob {descriptor['digest']}", response)

    def _put_manifest(self, reference: str, content: bytes, media_type: str) -> None:
        response = self._request("PUT", f"{self._base}/manifests/{reference}", data=content, headers={"Content-Type": media_type})
        if response.status_code not in (200, 201, 202):
            raise self._error(f"push of manifest {reference}", response)

    def _attach_referrers(self, digest: str, referrers: list[dict[str, Any]], layout: Path) -> str:
        """Makes `referrers` findable, replacing our referrers of an earlier publish of the same artifact.

        A rebuild of the same component has the same manifest digest but new
        attestations (the provenance records when it was built): only the newest
        set stays attached. Other tools' referrers are kept.
        """
        wanted = {entry["digest"] for entry in referrers}
        response = self._request("GET", f"{self._base}/referrers/{digest}", headers={"Accept": OCI_INDEX})
        if response.status_code == 200 and response.headers.get("Content-Type", "").startswith(OCI_INDEX):
            listed = _manifests_of(response.content)
            if wanted <= {entry.get("digest") for entry in listed}:
                for entry in listed:
                    if _is_ours(entry) and entry.get("digest") not in wanted:
                        self._delete_manifest(str(entry["digest"]))
                return "referrers API"
        tag = referrers_tag(digest)
        existing = self._fallback_referrers(digest, limit=1 << 22)
        kept = [entry for entry in existing if not _is_ours(entry) or entry.get("digest") in wanted]
        present = {entry.get("digest") for entry in kept}
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": kept + [_index_entry(entry, layout) for entry in referrers if entry["digest"] not in present],
        }
        if document["manifests"] != existing:
            self._put_manifest(tag, json_bytes(document), OCI_INDEX)
        return f"referrers tag {tag}"

    def _delete_manifest(self, digest: str) -> None:
        response = self._request("DELETE", f"{self._base}/manifests/{digest}")
        if response.status_code not in (200, 202, 404):
            raise self._error(
                f"removal of the superseded referrer {digest} (an earlier publish of this artifact; delete it, or allow "
                "manifest deletion)",
                response,
            )

    def _fallback_referrers(self, digest: str, *, limit: int) -> list[dict[str, Any]]:
        tag = referrers_tag(digest)
        response = self._request("GET", f"{self._base}/manifests/{tag}", headers={"Accept": OCI_INDEX})
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._error(f"referrers tag {tag}", response)
        return _manifests_of(_limited(response, limit, f"{self}: referrers tag {tag}"))

    # Plumbing

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._client.do_request(url, method, **kwargs)
        except (requests.RequestException, ValueError) as error:
            raise RegistryError(
                f"{self}: {method} failed ({type(error).__name__}); check that the registry address is right and "
                "reachable, and, for a plain-HTTP test registry, that it is marked insecure."
            ) from None

    def _error(self, what: str, response: requests.Response) -> RegistryError:
        hint = ""
        if response.status_code in (401, 403):
            hint = " Log in with `docker login` / `oras login` (credentials are read from the Docker config and its credential helpers)."
        elif response.status_code == 404:
            hint = " It does not exist there."
        return RegistryError(f"{self}: {what}: HTTP {response.status_code}.{hint}")


def _is_ours(entry: dict[str, Any]) -> bool:
    """Whether an index entry is a referrer wasm-attest published (by its `REFERRER_KIND` annotation)."""
    return REFERRER_KIND in (entry.get("annotations") or {})


def _index_entry(entry: dict[str, Any], layout: Path) -> dict[str, Any]:
    """A referrer's descriptor as an index lists it: with its artifactType and its manifest's annotations."""
    manifest = json.loads((layout / blob_path(entry["digest"])).read_bytes())
    described = {key: entry[key] for key in ("mediaType", "digest", "size")}
    described["artifactType"] = manifest.get("artifactType", manifest["config"]["mediaType"])
    if manifest.get("annotations"):
        described["annotations"] = manifest["annotations"]
    return described


def _manifests_of(content: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(content)
        entries = document["manifests"]
    except (ValueError, KeyError, TypeError):
        raise RegistryError("a referrers index is not an OCI image index.") from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise RegistryError("a referrers index lists something other than descriptors.")
    return entries


def _limited(response: requests.Response, limit: int, what: str) -> bytes:
    """The response body, refused past `limit` bytes (a registry is untrusted input too)."""
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        size += len(chunk)
        if size > limit:
            response.close()
            raise RegistryError(f"{what} is larger than {limit} bytes; refused.")
        chunks.append(chunk)
    return b"".join(chunks)


def _with_timeout(request):
    """`session.request` with a default timeout: no request waits forever on a registry that stopped answering."""

    def timed(*args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return request(*args, **kwargs)

    return timed
