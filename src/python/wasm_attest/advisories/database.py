"""A local copy of an advisory database in RustSec's advisory-db layout, read offline.

Each advisory is `crates/<crate>/RUSTSEC-YYYY-NNNN.md`: a ```toml fenced
block (`[advisory]` id, package, date, aliases, cvss, informational,
withdrawn; `[versions]` patched and unaffected Cargo requirements) followed
by a Markdown `# Title` and the description. TOML goes through `tomli`,
requirements through `versions`, CVSS vectors through `severity`.

The database is never fetched: the caller names a folder (a checkout of
rustsec/advisory-db, or a fixture). Its state is pinned by `digest`: the
SHA-256 of `sha256sum`-style lines (`<sha256>  <relative path>`) of every
advisory file, sorted by path, so anyone can recompute it from the folder
and a verifier knows which state the build was checked against.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable, Mapping

import tomli

from wasm_attest.advisories.severity import Severity, severity_of
from wasm_attest.advisories.versions import VersionRequirement, VersionRequirementError, parse_requirement, parse_version
from wasm_attest.errors import WasmAttestError

ADVISORY_SIZE_LIMIT = 1024 * 1024
"""Bytes per advisory file; real ones are a few kilobytes."""
INFORMATIONAL_KINDS = ("unmaintained", "unsound", "notice")
_FRONT_MATTER = re.compile(r"\A\s*```toml\s*\n(?P<toml>.*?)\n```\s*\n(?P<body>.*)\Z", re.DOTALL)
_TITLE = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)
_ID = re.compile(r"^[A-Z]+-\d{4}-\d{4,}$")
_DATE_LINE = re.compile(rb'^date\s*=\s*"?(\d{4}-\d{2}-\d{2})', re.MULTILINE)


class AdvisoryDatabaseError(WasmAttestError):
    """The advisory database folder or one of its files cannot be read as RustSec advisories."""


@dataclass(frozen=True)
class Advisory:
    """One advisory, as far as matching and reporting need it."""

    id: str
    package: str
    title: str
    date: str
    aliases: tuple[str, ...]
    cvss: str | None
    severity: Severity
    informational: str | None
    """None for a vulnerability; else its kind (`unmaintained`, `unsound`, `notice`, or another the database uses)."""
    withdrawn: str | None
    patched: tuple[VersionRequirement, ...]
    unaffected: tuple[VersionRequirement, ...]
    path: str
    """The advisory's file, relative to the database folder."""

    def affects(self, version: str) -> bool:
        """Whether `version` is neither patched nor unaffected (RustSec's rule; withdrawn advisories affect nothing)."""
        if self.withdrawn:
            return False
        parsed = parse_version(version)
        return not any(requirement.matches(parsed) for requirement in (*self.patched, *self.unaffected))

    @property
    def fixed_versions(self) -> str:
        """The patched requirements as one line, for messages."""
        return " or ".join(str(requirement) for requirement in self.patched) or "none"


@dataclass(frozen=True)
class AdvisoryDatabase:
    """The advisory files of a database folder, by crate name, and the digest of the state read.

    Files are parsed per crate on first use and kept: a component's gate parses
    the advisories of its own crates only, so a 1,000-advisory database costs
    milliseconds rather than a second per run. A malformed file therefore fails
    when a crate it is about is checked (naming the file), not when the database
    is opened.
    """

    location: str
    digest: str
    files_by_crate: Mapping[str, tuple[tuple[str, bytes], ...]]
    _parsed: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def advisories_for(self, crate: str) -> tuple[Advisory, ...]:
        if crate not in self._parsed:
            self._parsed[crate] = tuple(parse_advisory(content, path=path) for path, content in self.files_by_crate.get(crate, ()))
        return self._parsed[crate]

    @property
    def last_update(self) -> str:
        """The newest `date` of any advisory (read without parsing every file), for the attestation."""
        dates = (_DATE_LINE.search(content) for files in self.files_by_crate.values() for _, content in files)
        return max((match.group(1).decode() for match in dates if match), default="1970-01-01")

    def __len__(self) -> int:
        return sum(len(files) for files in self.files_by_crate.values())


def advisory_files(folder: Path) -> list[Path]:
    """The advisory files of a database folder (`crates/<crate>/*.md`), sorted."""
    crates = folder / "crates"
    if not crates.is_dir():
        raise AdvisoryDatabaseError(
            f"{folder} has no crates/ folder, so it is not an advisory database in RustSec's layout; point the "
            "option at a checkout of rustsec/advisory-db (the folder that holds crates/)."
        )
    return sorted(crates.glob("*/*.md"))


def load_database(folder: Path) -> AdvisoryDatabase:
    """Reads and parses every advisory of `folder`; any malformed file fails, naming it."""
    folder = Path(folder)
    contents = {}
    for path in advisory_files(folder):
        relative = path.relative_to(folder).as_posix()
        if not path.is_file() or path.stat().st_size > ADVISORY_SIZE_LIMIT:
            raise AdvisoryDatabaseError(f"{path} is not a regular file of at most {ADVISORY_SIZE_LIMIT} bytes.")
        contents[relative] = path.read_bytes()
    return parse_database(contents, location=str(folder))


def parse_database(contents: Mapping[str, bytes], *, location: str) -> AdvisoryDatabase:
    """The database from its files' contents (relative path `crates/<crate>/<id>.md` -> bytes)."""
    by_crate: dict[str, list[tuple[str, bytes]]] = {}
    for relative, content in sorted(contents.items()):
        by_crate.setdefault(Path(relative).parent.name, []).append((relative, content))
    return AdvisoryDatabase(
        location=location,
        digest=database_digest(contents.items()),
        files_by_crate={crate: tuple(files) for crate, files in by_crate.items()},
    )


def database_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """`sha256:` of the sorted `<sha256>  <path>` lines of the advisory files (`sha256sum` output, sorted)."""
    listing = "".join(f"{hashlib.sha256(content).hexdigest()}  {path}\n" for path, content in sorted(files))
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def parse_advisory(content: bytes, *, path: str) -> Advisory:
    """One advisory file; errors name the file and the field."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise AdvisoryDatabaseError(f"{path} is not UTF-8 text.") from None
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise AdvisoryDatabaseError(f"{path} does not start with a ```toml front matter block.")
    try:
        front = tomli.loads(match["toml"])
    except tomli.TOMLDecodeError as error:
        raise AdvisoryDatabaseError(f"{path}: the front matter is not valid TOML ({error}).") from None
    advisory = front.get("advisory")
    if not isinstance(advisory, dict):
        raise AdvisoryDatabaseError(f"{path} has no [advisory] table.")
    versions = front.get("versions", {})
    if not isinstance(versions, dict):
        raise AdvisoryDatabaseError(f"{path}: [versions] is not a table.")
    title = _TITLE.search(match["body"])
    if title is None:
        raise AdvisoryDatabaseError(f"{path} has no '# Title' heading after the front matter.")
    advisory_id = _string(advisory, "id", path)
    package = _string(advisory, "package", path)
    if not _ID.match(advisory_id):
        raise AdvisoryDatabaseError(f"{path}: [advisory] id {advisory_id!r} is not of the form RUSTSEC-YYYY-NNNN.")
    if Path(path).parent.name != package:
        raise AdvisoryDatabaseError(f"{path}: [advisory] package {package!r} does not match its folder crates/{Path(path).parent.name}/.")
    cvss = _optional_string(advisory, "cvss", path)
    try:
        severity = severity_of(cvss)
    except ValueError as error:
        raise AdvisoryDatabaseError(f"{path}: [advisory] cvss {cvss!r} is not a CVSS vector ({error}).") from None
    return Advisory(
        id=advisory_id,
        package=package,
        title=title["title"],
        date=_date(advisory.get("date"), path),
        aliases=tuple(_string_list(advisory, "aliases", path)),
        cvss=cvss,
        severity=severity,
        informational=_optional_string(advisory, "informational", path),
        withdrawn=_optional_date(advisory.get("withdrawn"), path),
        patched=_requirements(versions, "patched", path),
        unaffected=_requirements(versions, "unaffected", path),
        path=path,
    )


def _string(table: Mapping, key: str, path: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise AdvisoryDatabaseError(f"{path}: [advisory] {key} must be a non-empty string.")
    return value


def _optional_string(table: Mapping, key: str, path: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise AdvisoryDatabaseError(f"{path}: [advisory] {key} must be a string.")
    return value or None


def _string_list(table: Mapping, key: str, path: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AdvisoryDatabaseError(f"{path}: {key} must be a list of strings.")
    return value


def _date(value: object, path: str) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise AdvisoryDatabaseError(f"{path}: [advisory] date must be a date (YYYY-MM-DD).")


def _optional_date(value: object, path: str) -> str | None:
    return None if value is None else _date(value, path)


def _requirements(versions: Mapping, key: str, path: str) -> tuple[VersionRequirement, ...]:
    parsed = []
    for text in _string_list(versions, key, path):
        try:
            parsed.append(parse_requirement(text))
        except VersionRequirementError as error:
            raise AdvisoryDatabaseError(f"{path}: [versions] {key}: {error}") from None
    return tuple(parsed)
