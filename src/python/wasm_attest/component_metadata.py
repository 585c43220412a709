"""The standard metadata sections of a component: who made it, from what source, under what licence.

`wasm-tools metadata add` writes these, `wasm-tools metadata show` and
registries (OCI annotations, warg) read them. Each field is a top-level custom
section of the same name holding the value as UTF-8 text, in the order
wasm-tools 1.262 writes them: `authors`, `description`, `licenses`, `source`,
`homepage`, `revision`, `version`. The name is not a section of its own: it
is subsection 0 of the names section (`component-name`, or `name` in a core
module), next to the debug names the linker wrote.

wasm-tools refuses to show any metadata when one field is malformed, so only
values it accepts are written: `licenses` must be a valid SPDX expression and
`source` and `homepage` absolute URLs. Cargo.toml values that are not are
left out rather than failing the build (a crate's free-text licence, or a
`repository` without a scheme, is legal for cargo).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from wasm_attest.crate_inventory import CrateId, parse_package_id
from wasm_attest.errors import WasmAttestError
from wasm_attest.licenses import spdx_expression
from wasm_attest.wasm_sections import binary_name, custom_sections, with_binary_name

SECTION_NAMES = ("authors", "description", "licenses", "source", "homepage", "revision", "version")
"""The metadata custom sections, in the order `wasm-tools metadata add` appends them."""

# Characters the URL parser wasm-tools uses would strip or percent-encode.
_UNSAFE_URL_CHARACTERS = re.compile(r"[\s\x00-\x1f\x7f]")
_URL_FIELDS = frozenset({"source", "homepage"})
_WEB_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})


class ComponentMetadataError(WasmAttestError):
    """Metadata that cannot be written as, or read from, the standard metadata sections."""


@dataclass(frozen=True)
class ComponentMetadata:
    """What the metadata sections say about a component; None for each field it does not carry."""

    name: str | None = None
    version: str | None = None
    licenses: str | None = None
    """An SPDX license expression."""
    source: str | None = None
    """The URL of the source repository."""
    revision: str | None = None
    """The source control revision it was built from."""
    authors: str | None = None
    description: str | None = None
    homepage: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def metadata_from_cargo_metadata(metadata_json: bytes, package: CrateId, *, revision: str | None) -> ComponentMetadata:
    """The metadata of `package` as `cargo metadata --format-version 1` describes it.

    Cargo has already resolved `workspace = true` inheritance there, so the
    values are exactly those cargo would publish, wherever in the workspace
    they are written. `revision` is the source control revision of the build.
    """
    try:
        entries = json.loads(metadata_json)["packages"]
        entry = next((entry for entry in entries if parse_package_id(entry["id"]) == package), None)
    except (ValueError, KeyError, TypeError) as error:
        raise ComponentMetadataError(f"the output of `cargo metadata` cannot be read ({error!r}).") from None
    if not isinstance(entry, dict):
        raise ComponentMetadataError(
            f"`cargo metadata` does not list the package {package.name} {package.version}; run it in the workspace "
            "that builds the component."
        )
    license_text = entry.get("license")
    return ComponentMetadata(
        name=_text(entry.get("name")),
        version=_text(entry.get("version")),
        licenses=spdx_expression(license_text) if isinstance(license_text, str) else None,
        source=_url(entry.get("repository")),
        revision=revision or None,
        authors=_authors(entry.get("authors")),
        description=_text(entry.get("description")),
        homepage=_url(entry.get("homepage")),
    )


def metadata_sections(meta: ComponentMetadata) -> tuple[tuple[str, bytes], ...]:
    """The custom sections `wasm-tools metadata add` writes for the fields `meta` sets, in its order.

    A value wasm-tools would refuse is refused here too, since one such section
    hides all the others from `wasm-tools metadata show`. The name is not among
    the sections: it goes into the names section (see `with_name`).
    """
    sections = []
    for name in SECTION_NAMES:
        value = getattr(meta, name)
        if value is not None:
            sections.append((name, _section_text(name, value).encode("utf-8")))
    return tuple(sections)


def with_name(binary: bytes, meta: ComponentMetadata) -> bytes:
    """`binary` carrying `meta.name` in its names section, as `wasm-tools metadata add --name` writes it."""
    return binary if meta.name is None else with_binary_name(binary, meta.name)


def read_component_metadata(data: bytes) -> ComponentMetadata:
    """The metadata a module or component carries at its top level (not its nested modules')."""
    values: dict[str, str] = {}
    for section in custom_sections(data, nested=False):
        if section.name in SECTION_NAMES and section.name not in values:
            try:
                values[section.name] = section.payload.decode("utf-8")
            except UnicodeDecodeError:
                raise ComponentMetadataError(
                    f"the {section.name!r} metadata section is not UTF-8 text; the file is damaged, "
                    "or was made by a tool that does not follow `wasm-tools metadata add`."
                ) from None
    return ComponentMetadata(name=binary_name(data), **values)


def _section_text(name: str, value: str) -> str:
    if name == "licenses":
        expression = spdx_expression(value)
        if expression != value:
            advice = f"write it as {expression!r}" if expression else "leave it out"
            raise ComponentMetadataError(f"the licenses {value!r} are not a canonical SPDX expression; {advice}.")
    elif name in _URL_FIELDS:
        url = _url(value)
        if url is None:
            raise ComponentMetadataError(f"the {name} {value!r} is not an absolute URL; give one such as https://example.com/repo.")
        return url
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _authors(value: object) -> str | None:
    """Cargo's list of authors as one line, the way `cargo metadata` consumers usually show it."""
    if not isinstance(value, list) or not all(isinstance(author, str) for author in value):
        return None
    return ", ".join(value) or None


def _url(value: object) -> str | None:
    """An absolute URL as wasm-tools writes it, or None for anything its URL parser would refuse.

    Cargo accepts any text. wasm-tools parses URLs the way browsers do: it
    lower-cases the scheme and, for web schemes, the host, and gives a URL
    without a path the path `/`; these common rewrites are done here too, so
    the bytes match what `wasm-tools metadata add` would write.
    """
    if not isinstance(value, str) or _UNSAFE_URL_CHARACTERS.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if not (parts.scheme and parts.netloc):
        return None
    if parts.scheme not in _WEB_SCHEMES:
        return parts.scheme + value[len(parts.scheme) :]  # urlsplit has lower-cased the scheme
    userinfo, at, host = parts.netloc.rpartition("@")
    return parts._replace(netloc=userinfo + at + host.lower(), path=parts.path or "/").geturl()
