"""`wasm-attest`: verify a component bundle, sign a reviewed layout and inspect a component, without Pants.

A release job downloads what a build produced and must decide, offline, whether
it may ship; `wasm-attest verify` makes that decision with the same
verification `pants package` and `pants verify-layout` run, trusting only the
owner keys named on its command line. `wasm-attest sign-layout` is the owner's
offline half of pre-signed layouts: it signs the unsigned, reviewable layout
JSON that `pants generate-layout` writes. `wasm-attest inspect` shows what a
`.wasm` found anywhere carries: its embedded dependency list, metadata
sections, custom sections and, for a component, its imports and exports.

Exit status: 0 when everything verified (or the layout was signed, or the file
was inspected); 1 when verification failed, the layout to sign is not a valid
layout, or the file to inspect is not a well-formed module or component or
carries unreadable records; 2 for usage and configuration errors (bad
arguments, a missing folder or file, a key that cannot be loaded). Expected
failures print a message, never a traceback, and no command writes anything
but `sign-layout`'s output file.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shlex
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from wasm_attest import __version__
from wasm_attest.admission.admit import admit
from wasm_attest.advisories.attestation import AdvisoryCheck
from wasm_attest.advisories.database import AdvisoryDatabaseError, load_database
from wasm_attest.advisories.gate import policy_from_options
from wasm_attest.bundle_files import ARTIFACT_SIZE_LIMIT, METADATA_SIZE_LIMIT, BundleFileError, read_limited
from wasm_attest.component_metadata import read_component_metadata
from wasm_attest.dep_v0 import SECTION_NAME as DEP_V0_SECTION
from wasm_attest.dep_v0 import decode_dep_v0
from wasm_attest.errors import WasmAttestError
from wasm_attest.inspections import DEFAULT_INSPECTION_TIMEOUT
from wasm_attest.keys import KeyLoadError, load_public_key, load_signing_key
from wasm_attest.layout import LayoutError, load_unsigned_layout, sign_layout
from wasm_attest.oci.published import PublishedSourceError, fetch_published, is_published_source, push_bundle
from wasm_attest.oci.reference import ReferenceError
from wasm_attest.verification import VerificationError, failure_json, verify_attestations
from wasm_attest.wasm_sections import binary_kind, component_externs, custom_sections

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(WasmAttestError):
    """The command line cannot be acted on (exit 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `wasm-attest` with `argv` (default: the process's arguments) and returns the exit status."""
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage and the problem (or --help, --version)
        return EXIT_USAGE if stop.code else EXIT_OK
    try:
        return arguments.run(arguments)
    except BrokenPipeError:
        # The reader (`| head`) went away before the report was out: nobody saw a verdict, so none is given.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wasm-attest",
        description=(
            "Verify attested WebAssembly component bundles offline, sign reviewed in-toto layouts, "
            "and inspect what a component carries."
        ),
        epilog=(
            "Exit status: 0 verified/signed/inspected, 1 verification failed (or invalid layout, or a malformed file "
            "to inspect), 2 usage or configuration error."
        ),
    )
    parser.add_argument("--version", action="version", version=f"wasm-attest {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    verify = commands.add_parser(
        "verify",
        help="verify a bundle folder (what `pants package` wrote, or a download of it) or a published component",
        description=(
            "Verifies the bundle in FOLDER: the layout's signature by every --owner-key and its expiry, every step's "
            "signed links and artifact rules, the files on disk, Cargo.lock, the SBOM and the provenance. Trust comes "
            "only from --owner-key; keys in FOLDER are never trusted. Nothing is written. FOLDER may also be a "
            "published component: oci://HOST/REPOSITORY:TAG or @sha256:DIGEST (a tag is resolved to a digest once, "
            "and the digest printed), or an OCI image layout folder; its component and referrers are fetched into a "
            "scratch folder and verified the same way."
        ),
    )
    verify.add_argument(
        "folder",
        metavar="FOLDER|oci://REF",
        help="the bundle folder (e.g. dist/testprojects.hello/hello), an OCI layout folder, or oci://HOST/REPO:TAG|@sha256:…",
    )
    verify.add_argument(
        "--plain-http",
        action="store_true",
        help="talk plain HTTP to the registry of an oci:// reference (a local test registry only)",
    )
    verify.add_argument(
        "--owner-key",
        dest="owner_keys",
        metavar="PUB.pem",
        type=Path,
        action="append",
        required=True,
        help="the layout owner's public key (PEM, Ed25519 or ECDSA P-256), kept outside FOLDER; repeat for several owners",
    )
    verify.add_argument("--layout", metavar="PATH", type=Path, help="the signed layout to verify against (default: FOLDER/root.layout)")
    verify.add_argument("--format", choices=("text", "json"), default="text", help="text for people (default), json for machines")
    verify.add_argument("--now", metavar="RFC3339", help="check the layout's expiry at this moment, e.g. 2030-01-01T00:00:00Z (default: now)")
    verify.add_argument(
        "--allow-inspection",
        dest="allowed_inspections",
        metavar="COMMAND",
        action="append",
        default=[],
        help=(
            "run the layout's inspections whose command is exactly COMMAND (split like a shell would, never run by one), "
            f"in a throwaway folder with copies of the final products, for at most {DEFAULT_INSPECTION_TIMEOUT:g} s; "
            "repeatable. Inspections not allowed are not run"
        ),
    )
    verify.add_argument(
        "--allow-unisolated-builds",
        action="store_true",
        help=(
            "accept a component whose provenance does not record an isolated build (built with "
            "[wasm-sandbox].isolation = \"none\", for development); without it such a bundle fails verification"
        ),
    )
    verify.add_argument(
        "--advisory-db",
        metavar="DIR",
        type=Path,
        help=(
            "an advisory database in RustSec's advisory-db layout: the SBOM's crates are judged against it again "
            "(every vulnerability at or above --severity-threshold fails; informational advisories warn)"
        ),
    )
    verify.add_argument(
        "--severity-threshold",
        choices=("none", "low", "medium", "high", "critical"),
        default="low",
        help="with --advisory-db: the lowest CVSS severity that fails (default: low)",
    )
    verify.add_argument(
        "--policy",
        metavar="FILE.rego",
        type=Path,
        help="an admission policy (package wasm_attest.admission, a `deny` set of messages) the verified bundle must pass",
    )
    verify.set_defaults(run=_verify)

    push = commands.add_parser(
        "push",
        help="push a packaged bundle's OCI artifact and its signed referrers to a registry",
        description=(
            "Pushes FOLDER/oci (what `pants package` wrote) to oci://HOST/REPOSITORY: the component's Wasm artifact by "
            "digest, its SBOM, provenance and in-toto referrers (through the Referrers API, or the sha256-<digest> "
            "referrers tag on registries without it), then each --tag. Pushing the same build again changes nothing. "
            "Credentials come from the Docker config and its credential helpers (`docker login`, `oras login`)."
        ),
    )
    push.add_argument("folder", metavar="FOLDER", type=Path, help="the bundle folder `pants package` wrote")
    push.add_argument("destination", metavar="oci://HOST/REPOSITORY", help="where to push")
    push.add_argument("--tag", dest="tags", metavar="TAG", action="append", default=[], help="a tag to set; repeatable")
    push.add_argument("--plain-http", action="store_true", help="talk plain HTTP (a local test registry only)")
    push.set_defaults(run=_push)

    sign = commands.add_parser(
        "sign-layout",
        help="sign a reviewed, unsigned layout with the owner key, offline",
        description=(
            "Signs LAYOUT_FILE, the unsigned layout JSON `pants generate-layout` writes, with the owner's private key "
            "and writes the signed DSSE envelope (what root.layout holds) to --output."
        ),
    )
    sign.add_argument("layout_file", metavar="LAYOUT_FILE", type=Path, help="the unsigned layout JSON")
    sign.add_argument("--key", required=True, metavar="OWNER.pem", type=Path, help="the owner's private key (PKCS#8 PEM, Ed25519 or ECDSA P-256)")
    sign.add_argument("--password-env", metavar="VAR", help="the NAME of the environment variable holding the key's password")
    sign.add_argument("--output", required=True, metavar="OUT", type=Path, help="where to write the signed layout, e.g. root.layout")
    sign.set_defaults(run=_sign_layout)

    inspect = commands.add_parser(
        "inspect",
        help="show what a .wasm module or component carries",
        description=(
            "Reads FILE, a WebAssembly module or component from anywhere (it is treated as untrusted), and prints its "
            "kind, size and SHA-256, its custom sections, the metadata sections `wasm-tools metadata add` writes, the "
            "dependency list of every .dep-v0 section (what cargo audit and other scanners read) and, for a component, "
            "the names it imports and exports. Nothing is run or written."
        ),
    )
    inspect.add_argument("file", metavar="FILE.wasm", type=Path, help="the module or component to inspect")
    inspect.add_argument("--format", choices=("text", "json"), default="text", help="text for people (default), json for machines")
    inspect.set_defaults(run=_inspect)
    return parser


def _verify(arguments: argparse.Namespace) -> int:
    if not is_published_source(arguments.folder):
        return _verify_folder(arguments, Path(arguments.folder))
    as_json = arguments.format == "json"
    with tempfile.TemporaryDirectory(prefix="wasm-attest-published-") as scratch:
        try:
            name, fetched = fetch_published(arguments.folder, Path(scratch), plain_http=arguments.plain_http)
        except (ReferenceError, PublishedSourceError) as error:
            _report_failure(error, as_json, "error")
            return EXIT_USAGE
        except WasmAttestError as error:
            _report_failure(error, as_json, "NOT VERIFIED")
            return EXIT_FAILED
        resolved = f" (tag {fetched.tag} resolved to {fetched.digest})" if fetched.tag else ""
        print(f"wasm-attest: verifying {name}{resolved}: artifact manifest {fetched.digest}, component {fetched.component}", file=sys.stderr)
        return _verify_folder(arguments, Path(scratch))


def _verify_folder(arguments: argparse.Namespace, folder: Path) -> int:
    as_json = arguments.format == "json"
    try:
        owner_keys, layout, now, inspections = _verify_configuration(arguments, folder)
        advisory_check = _advisory_check(arguments, now)
        policy = _read_policy(arguments.policy)
        report = verify_attestations(
            folder,
            layout_path=layout,
            trusted_owner_keys=owner_keys,
            now=now,
            allowed_inspections=inspections,
            require_isolated_build=not arguments.allow_unisolated_builds,
            advisory_check=advisory_check,
        )
        if policy is not None:
            admitted = admit(folder, report, policy, origin=str(arguments.policy))
            report = dataclasses.replace(report, items=(*report.items, admitted))
    except VerificationError as error:
        _report_failure(error, as_json, "NOT VERIFIED")
        return EXIT_FAILED
    except WasmAttestError as error:
        _report_failure(error, as_json, "error")
        return EXIT_USAGE
    if as_json:
        _print_json(report.to_json())
    else:
        print(report.summary())
    return EXIT_OK


def _push(arguments: argparse.Namespace) -> int:
    try:
        pushed = push_bundle(arguments.folder, arguments.destination, arguments.tags, plain_http=arguments.plain_http)
    except (ReferenceError, PublishedSourceError) as error:
        _report_failure(error, False, "error")
        return EXIT_USAGE
    except WasmAttestError as error:
        _report_failure(error, False, "push failed")
        return EXIT_FAILED
    destination = arguments.destination.rstrip("/")
    print(f"pushed {destination}@{pushed.digest} with {len(pushed.referrers)} referrer(s) ({pushed.referrers_via})")
    for tag in pushed.tags:
        print(f"tagged {destination}:{tag}")
    return EXIT_OK


def _verify_configuration(arguments: argparse.Namespace, folder: Path) -> tuple[list[Any], Path | None, datetime | None, list[tuple[str, ...]]]:
    """Checks what the command line names before verification starts: every problem here is exit 2."""
    if not folder.exists():
        raise UsageError(f"FOLDER {folder} does not exist; give the folder `pants package` wrote or the downloaded bundle.")
    if not folder.is_dir():
        raise UsageError(f"FOLDER {folder} is not a folder; give the folder that holds the component and root.layout.")
    owner_keys = []
    for path in arguments.owner_keys:
        if _is_inside(path, folder):
            raise UsageError(
                f"--owner-key {path} is inside the folder being verified, so whoever made the folder would choose the "
                "key that vouches for it. Pin the owner's public key outside it (in the release job's configuration)."
            )
        try:
            owner_keys.append(load_public_key(path))
        except KeyLoadError as error:
            raise UsageError(f"--owner-key: {error}") from None
    layout = arguments.layout
    if layout is not None and not layout.is_file():
        raise UsageError(f"--layout {layout} is not a file; give the signed layout (root.layout) to verify against.")
    inspections = []
    for command in arguments.allowed_inspections:
        try:
            argv = tuple(shlex.split(command))
        except ValueError as error:
            raise UsageError(f"--allow-inspection {command!r} cannot be split into arguments ({error}).") from None
        if not argv:
            raise UsageError("--allow-inspection needs a command, e.g. --allow-inspection true.")
        inspections.append(argv)
    return owner_keys, layout, _parse_now(arguments.now), inspections


def _advisory_check(arguments: argparse.Namespace, now: datetime | None) -> AdvisoryCheck | None:
    if arguments.advisory_db is None:
        return None
    try:
        database = load_database(arguments.advisory_db)
    except (AdvisoryDatabaseError, OSError) as error:
        raise UsageError(f"--advisory-db {arguments.advisory_db}: {error}") from None
    policy = policy_from_options(
        severity_threshold=arguments.severity_threshold, informational={}, host_only="warn", exceptions={}, origin="--severity-threshold"
    )
    return AdvisoryCheck(database, policy, (now or datetime.now(timezone.utc)).date())


def _read_policy(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return read_limited(path, METADATA_SIZE_LIMIT, name=str(path)).decode("utf-8")
    except (BundleFileError, OSError, UnicodeDecodeError) as error:
        raise UsageError(f"--policy {path} cannot be read as a UTF-8 Rego file ({error}).") from None


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise UsageError(f"--now {value!r} is not an RFC 3339 time with a time zone, e.g. 2030-01-01T00:00:00Z.")
    return moment


def _is_inside(path: Path, folder: Path) -> bool:
    resolved, root = path.resolve(), folder.resolve()
    return resolved == root or root in resolved.parents


def _sign_layout(arguments: argparse.Namespace) -> int:
    try:
        data = _read_layout_file(arguments.layout_file)
        layout = load_unsigned_layout(data, origin=str(arguments.layout_file))
        expires = datetime.strptime(layout.expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        if expires <= datetime.now(timezone.utc):
            raise LayoutError(
                f"{arguments.layout_file} expired on {layout.expires}; regenerate it (`pants generate-layout`) with a later expiry."
            )
        try:
            key = load_signing_key(arguments.key, password_env_var=arguments.password_env)
        except KeyLoadError as error:
            raise UsageError(f"--key: {error}") from None
        _write_atomically(arguments.output, sign_layout(layout, key.signer))
    except LayoutError as error:
        _report_failure(error, False, "error")
        return EXIT_FAILED
    except WasmAttestError as error:
        _report_failure(error, False, "error")
        return EXIT_USAGE
    print(
        f"Signed {arguments.layout_file} with owner key {key.keyid}: wrote {arguments.output} "
        f"({len(layout.steps)} step(s), {len(layout.inspect)} inspection(s), expires {layout.expires})."
    )
    return EXIT_OK


def _read_layout_file(path: Path) -> bytes:
    try:
        return read_limited(path, METADATA_SIZE_LIMIT, name=str(path))
    except BundleFileError as error:
        raise LayoutError(error.detail) from None
    except FileNotFoundError:
        raise UsageError(f"The layout file {path} does not exist; write it with `pants generate-layout`.") from None
    except OSError as error:
        raise UsageError(f"The layout file {path} cannot be read ({error.strerror}).") from None


def _write_atomically(path: Path, content: bytes) -> None:
    """Writes `content` to `path` through a temporary file in the same folder, so a failure leaves no partial file."""
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise UsageError(f"Cannot write {path} ({error.strerror}); check that its folder exists and is writable.") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)  # a signed layout is public; mkstemp made it 0600
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise UsageError(f"Cannot write {path} ({error.strerror}).") from None


def _inspect(arguments: argparse.Namespace) -> int:
    as_json = arguments.format == "json"
    path: Path = arguments.file
    try:
        data = _read_binary(path)
        report = _inspection(data)
    except UsageError as error:
        _report_inspect_failure(path, error, as_json)
        return EXIT_USAGE
    except WasmAttestError as error:
        _report_inspect_failure(path, error, as_json)
        return EXIT_FAILED
    if as_json:
        _print_json({"file": str(path), **report, "error": None})
    else:
        print(_inspection_text(path, report))
    return EXIT_OK


def _read_binary(path: Path) -> bytes:
    """The file's bytes; a link is followed, since the user named it, but a FIFO or device is refused."""
    if not path.exists():
        raise UsageError(f"{path} does not exist; give the path of a .wasm file.")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the path of a .wasm file.")
    try:
        return read_limited(path.resolve(), ARTIFACT_SIZE_LIMIT, name=str(path))
    except BundleFileError as error:
        raise WasmAttestError(error.detail) from None
    except OSError as error:
        raise UsageError(f"{path} cannot be read ({error.strerror}).") from None


def _inspection(data: bytes) -> dict[str, Any]:
    """What `inspect` reports about a binary, as JSON-ready values; the text output is drawn from the same."""
    kind = binary_kind(data)
    sections = custom_sections(data)
    externs = component_externs(data) if kind == "component" else None
    return {
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "custom_sections": [
            {"name": section.name, "size": len(section.payload), "depth": section.depth} for section in sections
        ],
        "metadata": read_component_metadata(data).to_json(),
        "dependency_lists": [
            _dependency_list_json(section.depth, section.payload) for section in sections if section.name == DEP_V0_SECTION
        ],
        "imports": None if externs is None else list(externs.imports),
        "exports": None if externs is None else list(externs.exports),
    }


def _dependency_list_json(depth: int, payload: bytes) -> dict[str, Any]:
    deps = decode_dep_v0(payload)
    return {
        "depth": depth,
        "format": deps.format,
        "packages": [
            {
                "name": package.name,
                "version": package.version,
                "source": package.source,
                "kind": package.kind,
                "root": package.root,
                "dependencies": list(package.dependencies),
            }
            for package in deps.packages
        ],
    }


def _inspection_text(path: Path, report: dict[str, Any]) -> str:
    """The report for people; every text from the file is escaped, so a hostile file cannot drive the terminal."""
    lines = [f"{path}: WebAssembly {report['kind']}, {report['size']} bytes, sha256 {report['sha256']}", ""]
    lines.append(f"Custom sections ({len(report['custom_sections'])}):")
    for section in report["custom_sections"]:
        lines.append(f"  {_printable(section['name']):<24} {section['size']:>9} bytes  {_where(section['depth'])}")
    metadata = {field: value for field, value in report["metadata"].items() if value is not None}
    lines += ["", "Metadata:" if metadata else "Metadata: none (no name or metadata sections at the top level)"]
    lines += [f"  {field}: {_printable(value)}" for field, value in metadata.items()]
    if not report["dependency_lists"]:
        lines += ["", f"Dependencies: none (no {DEP_V0_SECTION} section)"]
    for deps in report["dependency_lists"]:
        heading = f"Dependencies ({DEP_V0_SECTION}, {_where(deps['depth'])}, format {deps['format'] or 0})"
        lines += ["", f"{heading}: {len(deps['packages'])} packages"]
        lines += [
            "  " + _printable(" ".join([package["name"], package["version"], package["source"], package["kind"]]))
            + (" (root)" if package["root"] else "")
            for package in deps["packages"]
        ]
    for title in ("imports", "exports"):
        if report[title] is not None:
            lines += ["", f"{title.capitalize()} ({len(report[title])}):", *(f"  {_printable(name)}" for name in report[title])]
    return "\n".join(lines)


def _where(depth: int) -> str:
    return "top level" if depth == 0 else f"nested, depth {depth}"


def _printable(text: str) -> str:
    """`text` with control and other unprintable characters shown as escapes."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in text)


def _report_inspect_failure(path: Path, error: WasmAttestError, as_json: bool) -> None:
    if as_json:
        _print_json({"file": str(path), "error": {"message": str(error), "offset": getattr(error, "offset", None)}})
    else:
        print(f"wasm-attest: error: {error}", file=sys.stderr)


def _report_failure(error: WasmAttestError, as_json: bool, label: str) -> None:
    if as_json:
        _print_json(failure_json(error))
    else:
        print(f"wasm-attest: {label}: {error}", file=sys.stderr)


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
