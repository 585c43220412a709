"""Build a hermetic Rust toolchain for wasm32-wasip2 from pinned Debian packages.

Why this exists: the project compiles Rust crates into WebAssembly components,
but machines of this kind cannot reach static.rust-lang.org, so
`rustup target add wasm32-wasip2` is impossible. Debian has almost every piece:
a recent rustc/cargo (the bookworm "-web" backports), LLVM's lld (which is
wasm-ld) and, in forky, a wasi-libc new enough for wasip2. Only
wasm-component-ld is missing; it is taken from rustup's stable toolchain on the
machine and pinned like the rest.

The script downloads exactly the .debs pinned in packages.txt, checks their
sha256 before unpacking, assembles a relocatable toolchain (RUNPATHs instead of
LD_LIBRARY_PATH), builds the wasm32-wasip2 standard library once with
-Zbuild-std, drops what is not needed to compile crates and packs the result
into a byte-for-byte reproducible .tar.gz that can itself be pinned by sha256.

Nothing is installed system-wide and /etc/apt is left alone: downloading,
verifying and unpacking are shared with the crate registry's script, in
debian_packages.py, which gives apt a private sources list, lists
directory, cache and an empty dpkg status file.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import shutil
import signal
import stat
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from wasm_attest_setup import debian_packages

PACKAGES_FILE = Path(__file__).resolve().parent / "pins" / "toolchain.txt"

HOST = "x86_64-unknown-linux-gnu"
TARGET = "wasm32-wasip2"
MULTIARCH = "x86_64-linux-gnu"
# cc links build scripts, and gcc's collect2 finds `ld` only through PATH, so
# the toolchain's environment holds exactly this directory on PATH.
HOST_BIN = "/usr/bin"
TOOL_PACKAGES = {"apt-get": "apt", "dpkg-deb": "dpkg", "cc": "gcc"}

HOST_SUITE = "host"
WASM_COMPONENT_LD = "wasm-component-ld"

SHIPPED_BINARIES = ("rustc", "rustdoc", "cargo")
WASI_LIBC_FILES = ("libc.a", "crt1-command.o", "crt1-reactor.o")
EMPTY_AR_ARCHIVE = b"!<arch>\n"
STD_CRATES = "std,panic_abort,test"
SMOKE_CRATE = "hello"
COMPONENT_MAGIC = bytes.fromhex("0061736d0d000100")
ELF_MAGIC = b"\x7fELF"

ARCHIVE_MTIME = 0
# Level 9 took 61 s against 17 s for level 6, for an archive only 0.5% smaller.
GZIP_LEVEL = 6

USAGE_DESCRIPTION = f"""\
Build a self-contained Rust toolchain for {TARGET} from the Debian packages
pinned in wasm_attest_setup/pins/{PACKAGES_FILE.name} (or --pins) and write the byte-for-byte
reproducible archive OUT/{TARGET}-rust-<version>.tar.gz. Progress goes to
stderr; the last line on stdout is `sha256=<hex> size=<bytes>`."""

USAGE_EPILOG = f"""\
Use the extracted toolchain TC hermetically (nothing else from the environment):
  env -i PATH={HOST_BIN} CARGO_HOME=<dir> RUSTC=TC/bin/rustc \\
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER={HOST_BIN}/cc \\
    TC/bin/cargo build --release --offline --target {TARGET}
PATH is only needed when the crate has build scripts or proc-macros: cc finds
`ld` through it."""


class BuildError(Exception):
    """A failure with a message meant for the user; reported without a traceback."""


@dataclass(frozen=True)
class HostTools:
    """Absolute paths of the programs the build needs from this machine."""

    cc: str
    wasm_component_ld: Path


@dataclass(frozen=True)
class Versions:
    """What the assembled rustc and cargo report about themselves."""

    rustc: dict[str, str]
    cargo: str


@dataclass(frozen=True)
class Layout:
    """Where each stage lives inside the work directory."""

    work: Path

    @property
    def debs(self) -> Path:
        """Verified .debs, kept between runs so re-runs do not download again."""
        return self.work / "debs"

    @property
    def apt(self) -> Path:
        """Private apt state, so the system's apt configuration is never touched."""
        return self.work / "apt"

    @property
    def unpacked(self) -> Path:
        """All .debs unpacked into one tree that mirrors a Debian root file system."""
        return self.work / "unpacked"

    @property
    def toolchain(self) -> Path:
        """The toolchain being assembled; becomes the archive's root."""
        return self.work / "toolchain"

    @property
    def std_build(self) -> Path:
        """The throwaway crate whose build compiles the wasm32-wasip2 standard library."""
        return self.work / "std-build"


# ---------------------------------------------------------------- utilities


@contextlib.contextmanager
def phase(title: str) -> Iterator[None]:
    """Print one progress line per phase on stderr, with its duration.

    A cold build takes minutes; this shows where the time goes without
    mixing progress into stdout, which carries only the final result.
    """
    print(f"build_toolchain: {title} ...", end="", file=sys.stderr, flush=True)
    start = time.monotonic()
    try:
        yield
    except BaseException:
        print(" failed", file=sys.stderr, flush=True)
        raise
    print(f" {time.monotonic() - start:.1f}s", file=sys.stderr, flush=True)


# -------------------------------------------------------------------- pins


def read_pins(path: Path) -> list[debian_packages.Pin]:
    """Parse packages.txt, where the `host` suite marks the one file taken from this machine."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BuildError(f"cannot read {path}: {err.strerror}") from None
    pins = debian_packages.parse_pins(text, path, extra_suites=[HOST_SUITE])
    host_names = [pin.name for pin in pins if pin.suite == HOST_SUITE]
    if host_names != [WASM_COMPONENT_LD]:
        raise BuildError(f"{path.name} must pin exactly one host file, {WASM_COMPONENT_LD}")
    return pins


# -------------------------------------------------------------- host tools


def find_host_tools(wasm_component_ld_pin: debian_packages.Pin) -> HostTools:
    """Locate what must come from the host, and verify wasm-component-ld against its pin."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise BuildError("this builds an x86_64 Linux toolchain; run it on x86_64 Linux")
    # debian_packages runs apt-get and dpkg-deb from PATH; checking them here
    # reports every missing tool at once, before any download.
    found = {tool: shutil.which(tool) for tool in ("apt-get", "dpkg-deb")}
    found["cc"] = shutil.which("cc", path=HOST_BIN)
    missing = [
        f"{tool} (Debian package {TOOL_PACKAGES[tool]})"
        for tool, path in found.items()
        if path is None
    ]
    if missing:
        raise BuildError(f"missing host tools: {', '.join(missing)}")
    linker = rustup_wasm_component_ld()
    if not linker.is_file():
        raise BuildError(
            f"{WASM_COMPONENT_LD} not found at {linker}: it comes from rustup's stable "
            f"toolchain for {HOST} (set RUSTUP_HOME if rustup lives elsewhere)"
        )
    debian_packages.check_sha256(linker, wasm_component_ld_pin)
    return HostTools(cc=str(found["cc"]), wasm_component_ld=linker)


def rustup_wasm_component_ld() -> Path:
    """Return where rustup's stable toolchain keeps wasm-component-ld."""
    rustup_home = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup")
    toolchain = rustup_home / "toolchains" / f"stable-{HOST}"
    return toolchain / "lib" / "rustlib" / HOST / "bin" / WASM_COMPONENT_LD


# ---------------------------------------------------------------- unpacking


def unpack_debs(debs: Mapping[debian_packages.Pin, Path], dest: Path) -> None:
    """Extract every (already verified) .deb into one tree, laid out as dpkg would.

    Sorted by package name, so any file two packages share ends up the same on every run.
    """
    debian_packages.reset_dir(dest)
    for pin, deb in sorted(debs.items(), key=lambda item: item[0].name):
        debian_packages.unpack_deb(pin, deb, dest)


# ---------------------------------------------------------------- assembly


def rustlib(toolchain: Path) -> Path:
    """Return the sysroot's lib/rustlib directory."""
    return toolchain / "lib" / "rustlib"


def assemble(unpacked: Path, toolchain: Path, tools: HostTools) -> None:
    """Lay the toolchain out as rustc expects a sysroot: bin/ and lib/ side by side."""
    debian_packages.reset_dir(toolchain)
    (toolchain / "bin").mkdir()
    for binary in SHIPPED_BINARIES:
        shutil.copy2(unpacked / "usr" / "bin" / binary, toolchain / "bin" / binary)
    usr_lib = unpacked / "usr" / "lib"
    shutil.copytree(usr_lib / MULTIARCH, toolchain / "lib" / MULTIARCH, symlinks=True)
    shutil.copytree(usr_lib / "rustlib" / HOST, rustlib(toolchain) / HOST, symlinks=True)
    install_linkers(unpacked, toolchain, tools.wasm_component_ld)
    install_wasi_libc(unpacked, toolchain)
    install_library_sources(unpacked, toolchain)


def install_linkers(unpacked: Path, toolchain: Path, wasm_component_ld: Path) -> None:
    """Put wasm-component-ld and wasm-ld where rustc adds them to the linker's PATH.

    lld is a multi-call binary that picks its flavour from argv[0], so a copy
    named wasm-ld is the wasm linker that wasm-component-ld runs.
    """
    host_bin = rustlib(toolchain) / HOST / "bin"
    host_bin.mkdir()
    lld = next((unpacked / "usr" / "lib").glob("llvm-*/bin/lld"), None)
    if lld is None:
        raise BuildError("no usr/lib/llvm-*/bin/lld in the unpacked packages (is lld pinned?)")
    shutil.copy2(lld, host_bin / "wasm-ld")
    shutil.copy2(wasm_component_ld, host_bin / WASM_COMPONENT_LD)


def install_wasi_libc(unpacked: Path, toolchain: Path) -> None:
    """Copy wasi-libc's objects to where rustc links them for self-contained wasip2 builds."""
    source = unpacked / "usr" / "lib" / TARGET
    dest = rustlib(toolchain) / TARGET / "lib" / "self-contained"
    dest.mkdir(parents=True)
    for name in WASI_LIBC_FILES:
        shutil.copy2(source / name, dest / name)


def install_library_sources(unpacked: Path, toolchain: Path) -> None:
    """Copy the standard library sources that -Zbuild-std compiles.

    rust-src ships lib/rustlib/src/rust as a symlink into /usr/src; the real
    library/ is copied instead so the sysroot is self-contained. Debian strips
    wit-bindgen's prebuilt libwit_bindgen_cabi.a; an empty archive suffices
    because std on wasip2 uses none of its symbols.
    """
    rust_src = (unpacked / "usr" / "lib" / "rustlib" / "src" / "rust").resolve()
    library = rustlib(toolchain) / "src" / "rust" / "library"
    shutil.copytree(rust_src / "library", library, symlinks=True)
    for runtime_dir in (library / "vendor").glob("wit-bindgen-*/src/rt"):
        cabi = runtime_dir / "libwit_bindgen_cabi.a"
        if not cabi.exists():
            cabi.write_bytes(EMPTY_AR_ARCHIVE)


def set_runpaths(toolchain: Path, patchelf: Path) -> None:
    """Make every ELF that needs a bundled library find it through $ORIGIN.

    That lets the toolchain run from wherever it is extracted, with no
    LD_LIBRARY_PATH; files that only need system libraries stay untouched.
    """
    libdir = toolchain / "lib" / MULTIARCH
    bundled = {entry.name for entry in libdir.iterdir()}
    for elf in shipped_elf_files(toolchain):
        needed = debian_packages.run(
            [patchelf, "--print-needed", elf], what=f"reading {elf.name}"
        ).split()
        if bundled.intersection(needed):
            relative = os.path.relpath(libdir, elf.parent)
            runpath = "$ORIGIN" if relative == "." else f"$ORIGIN/{relative}"
            debian_packages.run(
                [patchelf, "--set-rpath", runpath, elf], what=f"setting RUNPATH of {elf.name}"
            )


def shipped_elf_files(toolchain: Path) -> list[Path]:
    """List the executables and shared libraries (not their symlinks) in the toolchain."""
    candidates = [
        *(toolchain / "bin").iterdir(),
        *(toolchain / "lib" / MULTIARCH).iterdir(),
        *(rustlib(toolchain) / HOST / "bin").iterdir(),
    ]
    return sorted(path for path in candidates if not path.is_symlink() and is_elf(path))


def is_elf(path: Path) -> bool:
    """Tell ELF files apart, so no stray data file is handed to patchelf."""
    with open(path, "rb") as handle:
        return handle.read(len(ELF_MAGIC)) == ELF_MAGIC


# ---------------------------------------------------------- toolchain runs


def hermetic_env(toolchain: Path, cargo_home: Path, cc: str) -> dict[str, str]:
    """Build the complete environment for running the new toolchain.

    Nothing is inherited (no HOME, no user PATH), so a build cannot pick up
    the caller's rustup, cargo config or tools. Build scripts link with the
    host cc named by absolute path; PATH holds only HOST_BIN, where cc finds ld.
    """
    return {
        "PATH": HOST_BIN,
        "CARGO_HOME": str(cargo_home),
        "RUSTC": str(toolchain / "bin" / "rustc"),
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER": cc,
    }


def probe_versions(toolchain: Path, env: Mapping[str, str]) -> Versions:
    """Run the assembled rustc and cargo once: proves they load, and feeds the manifest."""
    verbose = debian_packages.run([toolchain / "bin" / "rustc", "-vV"], what="rustc -vV", env=env)
    rustc = dict(line.split(": ", 1) for line in verbose.splitlines() if ": " in line)
    missing = sorted({"release", "commit-hash", "host"} - rustc.keys())
    if missing:
        raise BuildError(f"rustc -vV did not report {', '.join(missing)}:\n{verbose}")
    cargo = debian_packages.run(
        [toolchain / "bin" / "cargo", "-V"], what="cargo -V", env=env
    ).strip()
    return Versions(rustc=rustc, cargo=cargo)


def build_std(toolchain: Path, crate: Path, env: Mapping[str, str], commit: str) -> None:
    """Compile std for wasm32-wasip2 with the new toolchain and add it to the sysroot.

    Debian does not package std for wasip2. Building a hello-world binary with
    -Zbuild-std produces the rlibs and also proves the whole linker chain
    (rustc -> wasm-component-ld -> wasm-ld + wasi-libc) emits a component.
    Sources are remapped to /rustc/<commit>, as in official builds, so the
    rlibs do not depend on the work directory.
    """
    rust_src = rustlib(toolchain) / "src" / "rust"
    write_smoke_crate(crate, rust_src / "library" / "vendor")
    flags = ["-Cembed-bitcode=yes", f"--remap-path-prefix={rust_src}=/rustc/{commit}"]
    build_env = {**env, "RUSTC_BOOTSTRAP": "1", "CARGO_ENCODED_RUSTFLAGS": "\x1f".join(flags)}
    debian_packages.run(
        [
            toolchain / "bin" / "cargo",
            "build",
            "--release",
            "--offline",
            f"--target={TARGET}",
            f"-Zbuild-std={STD_CRATES}",
        ],
        what=f"building std for {TARGET}",
        cwd=crate,
        env=build_env,
    )
    output = crate / "target" / TARGET / "release"
    check_component(output / f"{SMOKE_CRATE}.wasm")
    dest = rustlib(toolchain) / TARGET / "lib"
    for rlib in sorted((output / "deps").glob("*.rlib")):
        shutil.copy2(rlib, dest / rlib.name)


def write_smoke_crate(crate: Path, vendor: Path) -> None:
    """Create the hello-world crate whose build compiles std.

    std's own dependencies resolve from library/vendor (there is no crates.io
    here); the release profile matches how official std is optimised.
    """
    debian_packages.reset_dir(crate)
    (crate / "src").mkdir()
    (crate / ".cargo").mkdir()
    (crate / "Cargo.toml").write_text(
        f'[package]\nname = "{SMOKE_CRATE}"\nversion = "0.0.0"\nedition = "2021"\n\n'
        "[workspace]\n\n"
        '[profile.release]\nopt-level = 3\ncodegen-units = 1\npanic = "abort"\n',
        encoding="utf-8",
    )
    (crate / "src" / "main.rs").write_text(
        'fn main() {\n    println!("hello");\n}\n', encoding="utf-8"
    )
    (crate / ".cargo" / "config.toml").write_text(
        '[source.crates-io]\nreplace-with = "rust-library-vendor"\n\n'
        f"[source.rust-library-vendor]\ndirectory = {json.dumps(str(vendor))}\n",
        encoding="utf-8",
    )


def check_component(wasm: Path) -> None:
    """Fail unless the file is a WebAssembly component (not a core module)."""
    with open(wasm, "rb") as handle:
        head = handle.read(len(COMPONENT_MAGIC))
    if head != COMPONENT_MAGIC:
        raise BuildError(f"{wasm} is not a wasm component (starts with {head.hex()})")


def prune(toolchain: Path) -> None:
    """Drop the std sources: std is built, and compiling crates never reads them."""
    shutil.rmtree(rustlib(toolchain) / "src")


def write_manifest(
    toolchain: Path, versions: Versions, pins: Sequence[debian_packages.Pin]
) -> None:
    """Record what the toolchain is and exactly what it was built from."""
    manifest = {
        "target": TARGET,
        "rustc": versions.rustc,
        "cargo": versions.cargo,
        "packages": [
            {field: getattr(pin, field) for field in debian_packages.PIN_FIELDS} for pin in pins
        ],
    }
    (toolchain / "toolchain.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


# ----------------------------------------------------------------- archive


def pack(toolchain: Path, archive: Path) -> None:
    """Write the archive under a temporary name, then rename: no half file is ever visible."""
    partial = archive.with_name(f".{archive.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as raw:
            write_tar_gz(toolchain, raw)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, archive)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_tar_gz(root: Path, raw: BinaryIO) -> None:
    """Write a deterministic tar.gz of root: sorted entries, fixed metadata, bare gzip header."""
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=ARCHIVE_MTIME
    ) as compressed, tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted_tree(root):
            info = tar_entry(root, path)
            if info.isreg():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)


def sorted_tree(root: Path) -> list[Path]:
    """List every directory, file and symlink under root in a machine-independent order."""
    paths: list[Path] = []
    for directory, dirnames, filenames in os.walk(root):
        paths.extend(Path(directory, name) for name in [*dirnames, *filenames])
    return sorted(paths, key=lambda path: path.relative_to(root).parts)


def tar_entry(root: Path, path: Path) -> tarfile.TarInfo:
    """Describe path by name, type, size, link target and a normalized mode; nothing else."""
    info = tarfile.TarInfo(path.relative_to(root).as_posix())
    info.mtime = ARCHIVE_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    status = path.lstat()
    if stat.S_ISLNK(status.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = checked_link_target(root, path)
        info.mode = 0o777
    elif stat.S_ISDIR(status.st_mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif stat.S_ISREG(status.st_mode):
        info.size = status.st_size
        info.mode = 0o755 if status.st_mode & 0o111 else 0o644
    else:
        raise BuildError(f"cannot archive {path}: not a file, directory or symlink")
    return info


def checked_link_target(root: Path, link: Path) -> str:
    """Return a symlink's target, refusing any that is absolute or leaves root."""
    target = os.readlink(link)
    resolved = link.resolve()
    if os.path.isabs(target) or not resolved.exists() or root.resolve() not in resolved.parents:
        raise BuildError(f"symlink {link} -> {target} does not stay inside the toolchain")
    return target


# -------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line: where the archive goes and where the work happens."""
    parser = argparse.ArgumentParser(
        description=USAGE_DESCRIPTION,
        epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="directory for the archive")
    parser.add_argument(
        "--pins",
        type=Path,
        default=PACKAGES_FILE,
        help=(
            f"the pins to build from (default: {PACKAGES_FILE}); "
            "build-support/repin.py builds from new pins before it writes them"
        ),
    )
    parser.add_argument(
        "--work",
        type=Path,
        help=(
            "work directory; the .debs cached in WORK/debs are reused by later runs "
            "(default: a temporary directory, removed afterwards)"
        ),
    )
    parser.add_argument(
        "--keep-work",
        action="store_true",
        help="also keep the unpacked packages, assembled tree and std build in the work directory",
    )
    return parser.parse_args(argv)


def build(out: Path, layout: Layout, pins_file: Path) -> Path:
    """Run every phase and return the path of the finished archive."""
    with phase("reading pins"):
        pins = read_pins(pins_file)
        debian_pins = [pin for pin in pins if pin.suite != HOST_SUITE]
        host_pin = next(pin for pin in pins if pin.suite == HOST_SUITE)
    with phase("checking host tools"):
        tools = find_host_tools(host_pin)
    with phase(f"fetching {len(debian_pins)} .debs"):
        debs = debian_packages.fetch_debs(
            debian_pins, layout.debs, layout.apt, pin_set="toolchain"
        )
    with phase("unpacking"):
        unpack_debs(debs, layout.unpacked)
    with phase("assembling"):
        assemble(layout.unpacked, layout.toolchain, tools)
        set_runpaths(layout.toolchain, layout.unpacked / "usr" / "bin" / "patchelf")
    env = hermetic_env(layout.toolchain, layout.std_build / "cargo-home", tools.cc)
    with phase("probing rustc and cargo"):
        versions = probe_versions(layout.toolchain, env)
    with phase(f"building std for {TARGET}"):
        build_std(layout.toolchain, layout.std_build, env, versions.rustc["commit-hash"])
    with phase("pruning and writing manifest"):
        prune(layout.toolchain)
        write_manifest(layout.toolchain, versions, pins)
    archive = out / f"{TARGET}-rust-{versions.rustc['release']}.tar.gz"
    with phase(f"packing {archive.name}"):
        out.mkdir(parents=True, exist_ok=True)
        pack(layout.toolchain, archive)
    return archive


def clean_work(layout: Layout, created: bool) -> None:
    """Remove the work directory, but keep the .deb cache of a user-chosen one."""
    if created:
        shutil.rmtree(layout.work, ignore_errors=True)
        return
    for path in (layout.apt, layout.unpacked, layout.toolchain, layout.std_build):
        shutil.rmtree(path, ignore_errors=True)


def exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit, so the partial archive and work dir still get cleaned up."""
    raise SystemExit(128 + signum)


def build_archive(out: Path, pins_file: Path = PACKAGES_FILE, work: Path | None = None, keep_work: bool = False) -> Path:
    """Build the archive into out and return its path, cleaning up the work directory.

    With no work directory a temporary one is used and removed; a given one keeps its
    downloaded .debs for the next run (and everything else too with keep_work).
    """
    created = work is None
    layout = Layout((Path(tempfile.mkdtemp(prefix="wasm-toolchain-")) if created else work).resolve())
    try:
        return build(out.resolve(), layout, pins_file.resolve())
    finally:
        if not keep_work:
            clean_work(layout, created)


def main(argv: Sequence[str] | None = None) -> int:
    """Build, print `sha256=... size=...`, and turn failures into one-message exits."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    start = time.monotonic()
    try:
        archive = build_archive(args.out, args.pins, args.work, args.keep_work)
    except (BuildError, debian_packages.SetupError, OSError) as err:
        print(f"build_toolchain: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("build_toolchain: interrupted", file=sys.stderr)
        return 130
    print(f"build_toolchain: wrote {archive} in {time.monotonic() - start:.0f}s", file=sys.stderr)
    print(f"sha256={debian_packages.sha256_of(archive)} size={archive.stat().st_size}")
    return 0
