"""Build wit-bindgen's `libwit_bindgen_cabi.a`, which Debian strips, from source, byte for byte reproducibly.

wit-bindgen's build.rs copies `src/rt/libwit_bindgen_cabi.a` into its output
and links it (`cargo:rustc-link-lib=static=...`) for every wasm32 target, so
the crate does not build without the file. Upstream ships a prebuilt archive
made with clang from C sources; Debian removes prebuilt objects (and here the
sources with them), and the toolchain has no clang. So the set-up compiles
`wit_bindgen_cabi/cabi_realloc.rs` (the `cabi_realloc` entry point that
archive provides; see that file) with the toolchain's own rustc to a wasm32
object and wraps it in an ar archive written here:

    RUSTC_BOOTSTRAP=1 rustc --target wasm32-wasip2 --crate-type lib --emit obj \
        --crate-name wit_bindgen_cabi_realloc -C opt-level=2 -C codegen-units=1 \
        -C debuginfo=0 -C panic=abort -o cabi_realloc.o cabi_realloc.rs

The object holds no path, time or host detail (no debug info; rustc records
only its own version in the `producers` section), and the archive has fixed
member metadata (time 0, owner 0, mode 644), so the same toolchain always
yields the same bytes. No symbol index is written: wasm-ld (LLVM 18 and later)
reads archive members without one, as ELF lld does. `RUSTC_BOOTSTRAP` unlocks
the two unstable features the source needs (weak linkage and the wasm
`.export_name` directive), as the toolchain's own std build does.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

from wasm_attest_setup import debian_packages

SOURCE = Path(__file__).resolve().parent / "wit_bindgen_cabi" / "cabi_realloc.rs"
ARCHIVE_PATH_IN_CRATE = Path("src/rt/libwit_bindgen_cabi.a")
MEMBER_NAME = "cabi_realloc.o"
WASM_TARGET = "wasm32-wasip2"
RUSTC_FLAGS = (
    f"--target={WASM_TARGET}",
    "--crate-type=lib",
    "--emit=obj",
    "--crate-name=wit_bindgen_cabi_realloc",
    "-Copt-level=2",
    "-Ccodegen-units=1",
    "-Cdebuginfo=0",
    "-Cpanic=abort",
)
# What the toolchain archive must provide to compile a no_std object for wasm32-wasip2.
_TOOLCHAIN_MEMBERS = ("bin/", "lib/x86_64-linux-gnu/", f"lib/rustlib/{WASM_TARGET}/lib/")


def ar_archive(members: list[tuple[str, bytes]]) -> bytes:
    """An ar archive in the common (System V / GNU) format with fixed member metadata.

    Member names must fit the 16-byte header field with the terminating `/`.
    """
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        field = f"{name}/".encode("ascii")
        if len(field) > 16:
            raise ValueError(f"ar member name {name!r} is longer than 15 characters")
        header = b"".join(
            (
                field.ljust(16),
                b"0".ljust(12),  # modification time
                b"0".ljust(6),  # owner
                b"0".ljust(6),  # group
                b"644".ljust(8),  # mode (octal)
                str(len(data)).encode("ascii").ljust(10),
                b"`\n",
            )
        )
        out += header + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def compile_object(toolchain: Path, work: Path) -> bytes:
    """Compile SOURCE with the unpacked toolchain's rustc; returns the object file's bytes."""
    output = work / MEMBER_NAME
    debian_packages.run(
        [toolchain / "bin" / "rustc", *RUSTC_FLAGS, "-o", output, SOURCE],
        what="compiling wit-bindgen's cabi_realloc for wasm32-wasip2",
        cwd=work,
        # Nothing from the host environment: only what makes the build reproducible.
        env={"RUSTC_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"},
    )
    return output.read_bytes()


def unpack_toolchain(archive: Path, dest: Path) -> None:
    """Extract the parts of the toolchain archive that compiling a no_std wasm object needs."""
    with tarfile.open(archive) as tar:
        members = [
            member
            for member in tar.getmembers()
            if member.name.lstrip("./").startswith(_TOOLCHAIN_MEMBERS)
            and (member.isfile() or member.isdir() or member.issym())
        ]
        tar.extractall(dest, members=members)  # noqa: S202 (the archive is the set-up's own, pinned by sha256)


def build_cabi_archive(toolchain_archive: Path) -> bytes:
    """The bytes of `libwit_bindgen_cabi.a`, compiled with the toolchain in `toolchain_archive`."""
    with tempfile.TemporaryDirectory(prefix="wit-bindgen-cabi-") as scratch:
        toolchain = Path(scratch) / "toolchain"
        work = Path(scratch) / "work"
        work.mkdir()
        unpack_toolchain(toolchain_archive, toolchain)
        return ar_archive([(MEMBER_NAME, compile_object(toolchain, work))])
