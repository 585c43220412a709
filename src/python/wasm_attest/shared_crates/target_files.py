"""Which files of a cargo target folder a workspace's components share, and the command that makes them.

A cold build of N components of one workspace would otherwise compile every
registry crate N times, once in each component's sandbox. One process per
workspace, profile and default-features choice compiles them once, with every
workspace member reduced to an empty stand-in library, and each component's
build starts from the result. cargo's own fingerprints decide what is fresh,
so sharing is a warm start: a crate that a component needs with other
features, or any stale file, is simply compiled again in that component's
build, and its output does not depend on whether anything was shared.

What is shared is only what cargo keeps per compiled unit of a registry crate
(`.fingerprint/`, `build/`, `deps/` of the target triple's and of the host's
profile folders). The stand-in members' units are left out: the component
builds compile the real members themselves, and a stand-in's output must never
be mistaken for theirs.
"""

from __future__ import annotations

import json
import re
from typing import Collection, Iterable

# A unit's files and folders end in `-<16 hex digits of cargo's metadata hash>`, optionally with an
# extension (`libserde-0123456789abcdef.rlib`, `serde-0123456789abcdef.d`, `.fingerprint/serde-0123456789abcdef/`).
_UNIT_ENTRY = re.compile(r"-(?P<hash>[0-9a-f]{16})(?:\.[A-Za-z0-9_.]+)?$")
_UNIT_HASH = re.compile(r"-([0-9a-f]{16})(?=[./]|$)")
_UNIT_FOLDERS = frozenset({".fingerprint", "build", "deps"})
_PATH_PACKAGE = "path+"


def registry_unit_hashes(messages: bytes) -> frozenset[str]:
    """The metadata hashes of the units of registry crates, from cargo's JSON messages (stdout).

    Every unit cargo builds is reported, with its output files
    (`compiler-artifact`) or its build script's output folder
    (`build-script-executed`); the hash in those names also names the unit's
    `.fingerprint/` and `build/` folders. Units of path packages (the
    workspace's stand-in members) are left out: the component builds compile
    the real members, and a stand-in's output must never be taken for theirs.
    A member and a registry crate may share a name (package `serde-json` and
    crate `serde_json`), never a hash, so the hash is what tells them apart.
    """
    hashes: set[str] = set()
    for line in messages.splitlines():
        if not line.startswith(b"{"):
            continue
        message = json.loads(line)
        if str(message.get("package_id", "")).startswith(_PATH_PACKAGE):
            continue
        if message.get("reason") == "compiler-artifact":
            names = message.get("filenames") or ()
        elif message.get("reason") == "build-script-executed":
            names = (message.get("out_dir") or "",)
        else:
            continue
        for name in names:
            hashes.update(_UNIT_HASH.findall(name))
    return frozenset(hashes)


def shared_target_files(paths: Iterable[str], profile_directory: str, unit_hashes: Collection[str]) -> tuple[str, ...]:
    """The files (relative to the target folder) that other builds of the workspace may start from, sorted.

    `paths` are every file cargo left in the target folder. Kept: the files of
    the units in `unit_hashes` (see `registry_unit_hashes`) in `<profile>/`
    (the host: build scripts and proc-macros) or `<triple>/<profile>/`.
    Dropped: every other unit, the uplifted copies in the profile folder
    itself, and cargo's bookkeeping (`.rustc_info.json`, `CACHEDIR.TAG`,
    locks), which each build writes again.
    """
    kept = []
    for path in paths:
        parts = path.split("/")
        for start in (0, 1):
            if len(parts) > start + 2 and parts[start] == profile_directory and parts[start + 1] in _UNIT_FOLDERS:
                entry = _UNIT_ENTRY.search(parts[start + 2])
                if entry is not None and entry.group("hash") in unit_hashes:
                    kept.append(path)
                break
    return tuple(sorted(kept))


_FRESHNESS_RECORD = re.compile(r"(?:^|/)\.fingerprint/[^/]+/dep-[^/]+$")


def is_freshness_record(path: str) -> bool:
    """Whether `path` is cargo's encoded dep-info of a unit (`.fingerprint/<unit>/dep-<kind>-<name>`).

    Why it is shared but not attested: the file lists the sources cargo checks
    the unit's freshness against, in an order that varies from one cargo run to
    the next (seen with typenum's two generated sources), so its digest would
    make the dependencies and build links differ between two builds of the same
    commit. It never reaches the component: at worst a forged one makes cargo
    think a unit stale and compile it again, from the attested sources and
    build-script output, or think it fresh, which is what the attested compiled
    files already say. Every other shared file stays a product and a material.
    """
    return _FRESHNESS_RECORD.search(path) is not None


def dependency_build_args(
    target: str,
    profile: str,
    packages: Iterable[tuple[str, Collection[str]]],
    no_default_features: bool,
) -> tuple[str, ...]:
    """`cargo build` of the stand-in libraries of `packages` (name, features): it compiles their dependencies.

    Features are qualified by package (`app/feature`), so one invocation can
    ask each component's package for exactly the features its own build asks
    for. `--lib` builds the stand-ins as the empty libraries they are, and
    their dependencies as a component build compiles them.
    """
    selected = sorted((name, tuple(sorted(features))) for name, features in packages)
    features = ",".join(f"{name}/{feature}" for name, wanted in selected for feature in wanted)
    return (
        "build",
        "--message-format=json-render-diagnostics",
        "--locked",
        "--offline",
        "--target",
        target,
        "--profile",
        profile,
        "--lib",
        *(argument for name, _ in selected for argument in ("--package", name)),
        *(("--features", features) if features else ()),
        *(("--no-default-features",) if no_default_features else ()),
    )


def compiled_units(messages: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The units cargo compiled and those it found fresh, by target name, from its JSON messages (stdout).

    cargo reports every unit of a build as a `compiler-artifact` message with
    `"fresh": true` when it reused the unit from the target folder: the
    measure of what sharing saved, in cargo's own words.
    """
    compiled, fresh = [], []
    for line in messages.splitlines():
        if not line.startswith(b"{"):
            continue
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact":
            name = f"{message['target']['name']}({'/'.join(message['target']['kind'])})"
            (fresh if message.get("fresh") else compiled).append(name)
    return tuple(sorted(compiled)), tuple(sorted(fresh))
