"""Fetching a published component into a scratch folder for verification, and pushing a bundle's layout.

The one entry point `wasm-attest verify`, `wasm-attest push` and the Pants
goals share, so a reference means the same thing everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from wasm_attest.component_pipeline import ComponentFiles
from wasm_attest.errors import WasmAttestError
from wasm_attest.oci.fetch import Fetched, LocalLayout, fetch_bundle
from wasm_attest.oci.image_layout import LAYOUT_FOLDER
from wasm_attest.oci.reference import is_registry_reference, parse_reference
from wasm_attest.oci.registry import Pushed, Registry
from wasm_attest.provenance import read_provenance


class PublishedSourceError(WasmAttestError):
    """What names the published component is neither a registry reference nor an OCI layout folder."""


def is_published_source(text: str) -> bool:
    """Whether `text` names a registry reference or an OCI image layout folder (rather than a bundle folder)."""
    return is_registry_reference(text) or (Path(text) / "oci-layout").is_file()


def fetch_published(text: str, destination: Path, *, plain_http: bool = False) -> tuple[str, Fetched]:
    """Writes the bundle named by `text` into `destination`; returns a display name of the source and what was fetched."""
    if is_registry_reference(text):
        reference = parse_reference(text)
        registry = Registry(reference.registry, reference.repository, insecure=plain_http)
        return f"oci://{reference}", fetch_bundle(registry, reference.digest or str(reference.tag), destination)
    folder = Path(text)
    if not (folder / "oci-layout").is_file():
        raise PublishedSourceError(f"{text} is neither oci://HOST/REPOSITORY[:TAG|@DIGEST] nor an OCI image layout folder.")
    layout = LocalLayout(folder)
    return f"OCI layout {folder}", fetch_bundle(layout, layout.default_tag(), destination)


def push_bundle(bundle: Path, destination: str, tags: Sequence[str], *, plain_http: bool = False) -> Pushed:
    """Pushes `bundle/oci` (what `pants package` wrote) to `oci://HOST/REPOSITORY`, tagged `tags`."""
    layout = Path(bundle) / LAYOUT_FOLDER
    if not (layout / "index.json").is_file():
        raise PublishedSourceError(f"{bundle} has no OCI layout ({LAYOUT_FOLDER}/index.json); run `pants package` first.")
    reference = parse_reference(destination if destination.startswith("oci://") else f"oci://{destination}")
    return Registry(reference.registry, reference.repository, insecure=plain_http).push_layout(layout, tags)


class PublishedTargetError(WasmAttestError):
    """A verified published component was built from another target than the one it is verified for."""


def built_target(folder: Path, component: str) -> str | None:
    """The target a verified bundle's provenance says was built (`externalParameters.target`); None if it says none."""
    provenance = read_provenance((folder / ComponentFiles(component).provenance).read_bytes())
    parameters = provenance[0][1].get("predicate", {}).get("buildDefinition", {}).get("externalParameters", {})
    target = parameters.get("target") if isinstance(parameters, dict) else None
    return target if isinstance(target, str) else None


def require_built_target(folder: Path, component: str, expected: str, *, source: str) -> str:
    """Refuses a published build of another target (a tag moved to another component); returns what passed."""
    actual = built_target(folder, component)
    if actual != expected:
        raise PublishedTargetError(
            f"{source} holds a verified build of {actual or 'an unnamed target'}, not of {expected}: the tag was moved to "
            "another build, or the wrong reference was given. Do not deploy it; verify by digest to pin the exact build."
        )
    return f"its verified provenance names the target {expected}"
