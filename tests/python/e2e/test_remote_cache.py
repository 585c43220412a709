"""A shared remote cache on a real REAPI server (BuildGrid on 127.0.0.1), used from two checkouts.

Checkout A packages a testproject with real dependencies and writes to the cache; checkout B, at
another path, with an empty Pants store and no pantsd, only reads. What must hold (issue 16):
- B compiles nothing: every "Compile ..." process comes from the remote cache, as Pants' own
  workunits record it (`source: HitRemotely`; see build-support/remote_cache/workunits.py);
- B's component and SBOM are bit-identical to A's, and B still signed its bundle itself (keys
  stay where the build runs: signing is rule code, which no cache stores);
- what A pushed is small: the unpacked toolchain (about 530 MB) never enters the CAS, and no
  private key byte does;
- no cacheable process of A is keyed on A's checkout path, the user's home or the set-up cache (a
  process Pants never caches, like reading the checkout's git commit, may name the checkout).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from e2e.repository import CACHE, REPOSITORY, TOOLCHAIN_ARCHIVE, copy_repository, pants
from remote_cache import workunits
from remote_cache.buildgrid import BuildGridServer, CasStorage, ensure_installed

TARGET = "testprojects/serde-json"
DIST = Path("dist", "testprojects.serde-json", "serde-json")
RUN_TIMEOUT_SECONDS = 900
DEV_KEYS = Path(os.environ["HOME"], ".config", "wasm-attest", "dev-keys")


@pytest.fixture(scope="module")
def buildgrid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildGridServer]:
    """BuildGrid with a disk-backed CAS, so the bytes it holds can be counted."""
    work = tmp_path_factory.mktemp("buildgrid")
    bgd = ensure_installed(CACHE, REPOSITORY / "build-support" / "remote_cache" / "buildgrid-requirements.txt")
    with BuildGridServer(bgd, work, CasStorage(disk_path=work / "cas")) as server:
        yield server


def _package(checkout: Path, server: BuildGridServer, *, write: bool, work: Path) -> list[workunits.ProcessRecord]:
    """`./pants package` in `checkout` with an empty Pants store of its own; the processes it ran or reused."""
    env = {"PANTS_LOCAL_STORE_DIR": str(work / "store"), "PANTS_NAMED_CACHES_DIR": str(work / "named-caches")}
    log_dir = work / "workunits"
    result = pants(
        checkout,
        *server.pants_options(write=write),
        *workunits.pants_options(log_dir),
        "package",
        TARGET,
        env=env,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return workunits.processes(log_dir)


def _layout_expiry(checkout: Path) -> str:
    envelope = json.loads((checkout / DIST / "root.layout").read_text())
    return json.loads(base64.b64decode(envelope["payload"]))["expires"]


def _private_key_bytes() -> list[bytes]:
    """Each development private key as PEM and as raw bytes: none may ever reach the cache."""
    found = []
    for pem in sorted(DEV_KEYS.glob("*.pem")):
        key = serialization.load_pem_private_key(pem.read_bytes(), None)
        try:
            raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        except ValueError:  # not an Ed25519 key: its PKCS#8 DER is the secret's encoding then
            raw = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        found += [pem.read_bytes(), raw]
    return found


def test_second_checkout_takes_every_compile_from_the_remote_cache(buildgrid: BuildGridServer, tmp_path: Path) -> None:
    checkout_a = copy_repository(tmp_path / "a")
    checkout_b = copy_repository(tmp_path / "b" / "at" / "another" / "much" / "longer" / "path")

    ran_in_a = _package(checkout_a, buildgrid, write=True, work=tmp_path / "run-a")
    assert workunits.compiles(ran_in_a, "Ran"), "A started cold, so it must have compiled"
    assert [record for record in ran_in_a if record.shareable], "no cacheable process seen: the key check below would be empty"
    cas_bytes = buildgrid.cas_bytes()
    # The toolchain archive is 182 MB compressed and 530 MB unpacked; all A's results take a few MB.
    assert cas_bytes < TOOLCHAIN_ARCHIVE.stat().st_size // 10, f"A pushed {cas_bytes} bytes: the toolchain went in"
    blobs = [path.read_bytes() for path in (buildgrid.storage.disk_path or Path()).rglob("*") if path.is_file()]
    keys = _private_key_bytes()
    assert keys, f"no development keys in {DEV_KEYS} after A signed"
    assert not [blob for blob in blobs for key in keys if key in blob], "a private key reached the cache"
    for leak in (str(checkout_a), str(CACHE), str(Path.home())):
        keyed_on_it = [record.description for record in ran_in_a if record.shareable and leak in record.definition]
        assert not keyed_on_it, f"processes keyed on {leak}: {keyed_on_it}"

    ran_in_b = _package(checkout_b, buildgrid, write=False, work=tmp_path / "run-b")
    assert workunits.compiles(ran_in_b, "Ran") == []
    assert workunits.compiles(ran_in_b, "HitLocally") == []
    assert workunits.compiles(ran_in_b, "HitRemotely") == workunits.compiles(ran_in_a, "Ran")
    for name in ("serde-json.wasm", "serde-json.cdx.json"):
        assert (checkout_b / DIST / name).read_bytes() == (checkout_a / DIST / name).read_bytes(), name
    # B signed its own layout (its expiry counts from B's run), with keys that never left this machine.
    assert _layout_expiry(checkout_b) > _layout_expiry(checkout_a)
