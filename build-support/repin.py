#!/usr/bin/env python3
"""Move the pinned Debian packages to the versions their suites offer now.

Why this exists: the set-up downloads exact package versions (toolchain,
crate registry, cargo-auditable, bubblewrap, the reference verifiers), and
Debian removes a version from a suite once a newer one, usually a security
update, replaces it. A fresh machine then cannot set up until the pins move.
This command moves them, for maintainers:

  1. fetches the suites' package lists into a private apt state (as the
     set-up does; /etc/apt is never touched);
  2. keeps every pin whose version is still offered (checking its sha256
     against the suite's signed index) and moves every other one to the newest
     version the same suite offers under the same package name, with the
     SHA256 the index gives; a package gone from its suite, an offer older
     than the pin, or a new Rust release series stops it, since those need a
     human;
  3. downloads each new .deb and checks it against that SHA256;
  4. for the toolchain, rebuilds the archive from the new pins
     (build-support/toolchain/build_toolchain.py, a few minutes), then updates its sha256
     and size in the `[wasm-toolchain]` default `known_versions` (and in
     pants.toml if set there), and the Rust version wherever the archive's
     name appears if that changed; the new archive goes into the set-up cache,
     where ./pants and Pants look for it;
  5. for bubblewrap, unpacks the new .deb, then updates the `bwrap` binary's
     sha256 and size in the `[wasm-sandbox]` default `known_versions` and the
     version there and in ./pants (and in pants.toml if set there); the binary
     goes into the set-up cache too;
  6. writes the changed files, each replaced atomically, only once all of the
     above succeeded, and prints what changed (old -> new).

With every pin current it changes nothing and says "all pins current".
Standard library only: it runs where nothing is installed yet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Run as a file, this script finds the set-up package, which ships in the wasm-attest
# distribution, in src/python (its sibling modules are on sys.path already).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src" / "python"))

import pin_updates  # noqa: E402 (after the sys.path entry, like every import below)
import sandbox_pins  # noqa: E402
import toolchain_pins  # noqa: E402
from wasm_attest_setup import debian_index, debian_packages  # noqa: E402
from wasm_attest_setup.cache import cache_dir  # noqa: E402
from wasm_attest_setup.debian_packages import SetupError  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
BUILD_TOOLCHAIN = REPOSITORY / "build-support" / "toolchain" / "build_toolchain.py"
ARCHIVE_PREFIX = "wasm32-wasip2-rust-"
ARCHIVE_SUFFIX = ".tar.gz"
TOOLCHAIN = "toolchain"
SANDBOX = "sandbox"
ALL = "all"


@dataclass(frozen=True)
class PinSet:
    """One packages.txt and what its reader accepts besides Debian suites."""

    name: str
    path: Path
    extra_suites: tuple[str, ...] = ()


def pin_sets(repository: Path) -> tuple[PinSet, ...]:
    """The repository's packages.txt files.

    The names are the ones the set-up scripts pass to debian_packages.fetch_debs,
    so the re-pin command their errors quote is this command.
    """
    shipped = repository / "src" / "python" / "wasm_attest_setup" / "pins"
    build_support = repository / "build-support"
    return (
        PinSet(TOOLCHAIN, shipped / "toolchain.txt", ("host",)),
        PinSet("registry", shipped / "registry.txt"),
        PinSet(SANDBOX, shipped / "sandbox.txt"),
        PinSet("cargo-auditable", build_support / "cargo_auditable" / "packages.txt"),
        PinSet("cargo-audit", build_support / "cargo_audit" / "packages.txt"),
        PinSet("verifiers", build_support / "verifiers" / "packages.txt"),
    )


@dataclass(frozen=True)
class Output:
    """A file made from new pins for the set-up cache, and the edits that pin it.

    The toolchain archive and the `bwrap` binary are pinned by their own sha256,
    so they come with edits to the files that pin them.
    """

    source: Path
    cache_path: str  # relative to the set-up cache, where ./pants and Pants look for it
    files: dict[Path, str]
    summary: tuple[str, ...]


def log(message: str) -> None:
    """Print progress and the summary, prefixed like the other set-up scripts' messages."""
    print(f"repin: {message}", flush=True)


# ---------------------------------------------------------------- planning


def read_pins(pin_set: PinSet, text: str) -> list[debian_packages.Pin]:
    """The pins of a set that come from Debian (the toolchain's host file is not re-pinned)."""
    pins = debian_packages.parse_pins(text, pin_set.path, pin_set.extra_suites)
    return [pin for pin in pins if pin.suite in debian_packages.SUITE_SOURCES]


def plan(
    pin_sets: Sequence[PinSet],
    pins: Mapping[str, Sequence[debian_packages.Pin]],
    offers: Mapping[tuple[str, str], Sequence[debian_index.Offer]],
) -> dict[str, tuple[pin_updates.Change, ...]]:
    """Return each set's changes, or fail naming every pin that needs a human."""
    changes: dict[str, tuple[pin_updates.Change, ...]] = {}
    problems: list[str] = []
    for pin_set in pin_sets:
        result = pin_updates.plan_updates(pins[pin_set.name], offers)
        problems.extend(f"{pin_set.name}: {problem}" for problem in result.problems)
        if pin_set.name == TOOLCHAIN:
            series = toolchain_pins.series_problems(result.changes)
            problems.extend(f"{TOOLCHAIN}: {problem}" for problem in series)
        changes[pin_set.name] = result.changes
    if problems:
        raise SetupError("cannot re-pin; nothing was changed:\n  " + "\n  ".join(problems))
    return changes


def pending_text(files: Mapping[Path, str], path: Path) -> str:
    """A file's text as this run will write it: an earlier edit of the run, else the file.

    The toolchain and bubblewrap both edit ./pants and pants.toml; each builds
    on the other's edits instead of overwriting them.
    """
    return files[path] if path in files else path.read_text(encoding="utf-8")


# --------------------------------------------------------------- toolchain


def rustc_version(pins: Sequence[debian_packages.Pin]) -> str:
    """The Rust release the toolchain pins, which names its archive."""
    rustc = [pin for pin in pins if pin.name == toolchain_pins.RUSTC_PACKAGE]
    if len(rustc) != 1:
        raise SetupError(f"the toolchain must pin {toolchain_pins.RUSTC_PACKAGE} exactly once")
    return toolchain_pins.rust_release(rustc[0].version)


def build_archive(pins_text: str, work: Path) -> tuple[Path, str, int]:
    """Run build_toolchain.py on the new pins; return the archive, its sha256 and size.

    Its progress goes straight to the terminal (a cold build takes minutes);
    the .debs already downloaded into work/debs are reused.
    """
    pins_file = work / "packages.txt"
    pins_file.write_text(pins_text, encoding="utf-8")
    out = work / "archive"
    log("rebuilding the toolchain archive from the new pins (a few minutes)")
    proc = subprocess.run(
        [
            sys.executable,
            str(BUILD_TOOLCHAIN),
            "--out", str(out),
            "--pins", str(pins_file),
            "--work", str(work),
        ],
        stdout=subprocess.PIPE,
        encoding="utf-8",
        check=False,
    )
    if proc.returncode != 0:
        raise SetupError("build_toolchain.py failed (see its messages above); nothing was changed")
    sha256, size = toolchain_pins.parse_build_result(proc.stdout)
    archives = sorted(out.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}"))
    if len(archives) != 1:
        raise SetupError(f"build_toolchain.py left {len(archives)} archives in {out}")
    return archives[0], sha256, size


def rebuild_toolchain(
    pin_set: PinSet,
    old_pins: Sequence[debian_packages.Pin],
    new_pins_text: str,
    work: Path,
    repository: Path,
    files: Mapping[Path, str],
) -> Output:
    """Build the new archive and compute every file edit that pins it, on top of files."""
    old_version = rustc_version(old_pins)
    new_version = rustc_version(read_pins(pin_set, new_pins_text))
    archive, sha256, size = build_archive(new_pins_text, work)
    built_version = archive.name[len(ARCHIVE_PREFIX) : -len(ARCHIVE_SUFFIX)]
    if built_version != new_version:
        raise SetupError(
            f"the pins name Rust {new_version} but rustc reports {built_version}; "
            "nothing was changed"
        )
    entry = toolchain_pins.known_version_entry(new_version, sha256, size)
    paths = {toolchain_pins.SUBSYSTEM_FILE, toolchain_pins.PANTS_TOML}
    if new_version != old_version:
        paths.update(site.path for site in toolchain_pins.VERSION_SITES)
    texts = {path: pending_text(files, repository / path) for path in sorted(paths)}
    old_entry = toolchain_pins.current_entry(texts[toolchain_pins.SUBSYSTEM_FILE], old_version)
    updated = dict(texts)
    updated[toolchain_pins.SUBSYSTEM_FILE] = toolchain_pins.rewrite_subsystem(
        texts[toolchain_pins.SUBSYSTEM_FILE], old_version, entry
    )
    updated[toolchain_pins.PANTS_TOML] = toolchain_pins.rewrite_pants_toml(
        texts[toolchain_pins.PANTS_TOML], old_version, new_version, entry
    )
    if new_version != old_version:
        updated = toolchain_pins.rewrite_version_sites(updated, old_version, new_version)
    summary = (f"toolchain archive: {old_entry}", f"                -> {entry}")
    edits = {repository / path: text for path, text in updated.items() if text != texts[path]}
    return Output(archive, f"{TOOLCHAIN}/{archive.name}", edits, summary)


# ----------------------------------------------------------------- sandbox


def repin_sandbox(
    changes: Sequence[pin_updates.Change],
    debs: Path,
    work: Path,
    repository: Path,
    files: Mapping[Path, str],
) -> Output:
    """Unpack the new bubblewrap .deb and compute every file edit that pins its `bwrap`.

    The binary, not the .deb, is what Pants pins, so its sha256 and size come
    from the unpacked file; it is made executable as fetch_bubblewrap.py makes
    the copy it puts in the set-up cache.
    """
    if [change.old.name for change in changes] != [sandbox_pins.PACKAGE]:
        raise SetupError(
            f"src/python/wasm_attest_setup/pins/sandbox.txt must pin exactly one package, "
            f"{sandbox_pins.PACKAGE}; nothing was changed"
        )
    [change] = changes
    old_version, new_version = change.old.version, change.new.version
    root = work / SANDBOX
    debian_packages.unpack_deb(change.new, debian_packages.cached_deb(debs, change.new), root)
    binary = root / sandbox_pins.BINARY
    if not binary.is_file():
        raise SetupError(f"{change.new.name} {new_version} has no {sandbox_pins.BINARY}")
    binary.chmod(0o755)
    entry = toolchain_pins.known_version_entry(
        new_version, debian_packages.sha256_of(binary), binary.stat().st_size
    )
    texts = {path: pending_text(files, repository / path) for path in sandbox_pins.PATHS}
    old_entry = toolchain_pins.current_entry(texts[sandbox_pins.SUBSYSTEM_FILE], old_version)
    updated = sandbox_pins.rewrite_files(texts, old_version, new_version, entry)
    summary = (f"sandbox bwrap: {old_entry}", f"            -> {entry}")
    edits = {repository / path: text for path, text in updated.items() if text != texts[path]}
    return Output(binary, f"{SANDBOX}/{sandbox_pins.cache_name(new_version)}", edits, summary)


# ----------------------------------------------------------------- writing


def stage_file(path: Path, text: str) -> Path:
    """Write text beside path under a temporary name, keeping its mode (./pants is executable)."""
    staged = path.with_name(f".{path.name}.repin-{os.getpid()}")
    staged.write_text(text, encoding="utf-8")
    shutil.copymode(path, staged)
    return staged


def stage_copy(source: Path, final: Path) -> Path:
    """Copy source beside final under a temporary name, keeping its mode (bwrap is executable)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staged = final.with_name(f".{final.name}.repin-{os.getpid()}")
    shutil.copy(source, staged)
    return staged


def commit(files: Mapping[Path, str], copies: Mapping[Path, Path]) -> list[Path]:
    """Stage every output, then rename each into place: no file is left half-written.

    files maps each edited file to its new text; copies maps each final path
    in the set-up cache to the file that goes there. If staging fails, the
    staged copies are removed and nothing has changed.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            staged.append((stage_file(path, text), path))
        for final, source in copies.items():
            staged.append((stage_copy(source, final), final))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in staged:
        os.replace(temporary, final)
    return [final for _, final in staged]


# -------------------------------------------------------------------- main


def repin(chosen: Sequence[PinSet], repository: Path, dry_run: bool, cache: Path) -> int:
    """Plan, download, rebuild and write; see the module docstring.

    cache is the set-up cache, where the rebuilt toolchain archive and a new
    `bwrap` go.
    """
    texts = {pin_set.name: pin_set.path.read_text(encoding="utf-8") for pin_set in chosen}
    pins = {pin_set.name: read_pins(pin_set, texts[pin_set.name]) for pin_set in chosen}
    wanted = sorted({(pin.suite, pin.name) for group in pins.values() for pin in group})
    with tempfile.TemporaryDirectory(prefix="repin-") as scratch:
        work = Path(scratch)
        suites = sorted({suite for suite, _ in wanted})
        log(f"fetching the package lists of {', '.join(suites)}")
        options = debian_packages.update_private_apt_lists(work / "apt", suites)
        offers = debian_index.read_offers(work / "apt" / "lists", wanted)
        changes = plan(chosen, pins, offers)
        if not any(changes.values()):
            counts = ", ".join(f"{name}: {len(group)}" for name, group in pins.items())
            log(f"all pins current ({counts} Debian packages)")
            return 0
        for name, group in changes.items():
            for change in group:
                log(f"{name}: {change.describe()}")
        if dry_run:
            log("dry run: nothing downloaded or written")
            return 0
        new_pins = sorted({change.new for group in changes.values() for change in group}, key=str)
        log(f"downloading and verifying {len(new_pins)} new .debs")
        debian_packages.download_debs(new_pins, work / "debs", options)
        files: dict[Path, str] = {}
        for pin_set in chosen:
            if changes[pin_set.name]:
                files[pin_set.path] = pin_updates.rewrite_pins(
                    texts[pin_set.name], changes[pin_set.name]
                )
        outputs: list[Output] = []
        toolchain = next((s for s in chosen if s.name == TOOLCHAIN and changes[s.name]), None)
        if toolchain is not None:
            outputs.append(
                rebuild_toolchain(
                    toolchain, pins[TOOLCHAIN], files[toolchain.path], work, repository, files
                )
            )
            files.update(outputs[-1].files)
        if changes.get(SANDBOX):
            outputs.append(repin_sandbox(changes[SANDBOX], work / "debs", work, repository, files))
            files.update(outputs[-1].files)
        for output in outputs:
            for line in output.summary:
                log(line)
        written = commit(files, {cache / output.cache_path: output.source for output in outputs})
    for path in written:
        log(f"wrote {path}")
    log("review and commit the changes; ./pants fetches what changed on its next run")
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Describe the command line; --help shows the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python3 build-support/repin.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "pins",
        choices=[*(pin_set.name for pin_set in pin_sets(REPOSITORY)), ALL],
        help="which pins to move: toolchain, registry and sandbox (src/python/wasm_attest_setup/pins/, "
        "shipped in the distribution), cargo-auditable, cargo-audit and verifiers (build-support/), or all",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only print which pins would move; download, build and write nothing",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=cache_dir(),
        help="where a rebuilt toolchain archive (under toolchain/) and a new bwrap (under "
        "sandbox/) go (default: %(default)s, the set-up cache that ./pants and pants.toml read)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    """Entry point: one message and exit status 1 on any failure, with nothing written."""
    args = parse_args(argv)
    chosen = [pin_set for pin_set in pin_sets(REPOSITORY) if args.pins in (pin_set.name, ALL)]
    try:
        return repin(chosen, REPOSITORY, args.dry_run, args.cache.resolve())
    except (SetupError, OSError, UnicodeDecodeError) as error:
        print(f"repin: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("repin: interrupted; nothing was changed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
