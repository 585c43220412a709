"""End to end: verifiers nobody here wrote accept every testproject's bundle, and reject a modified component.

- in-toto-verify (Python, the reference) and in-toto-golang check root.layout
  and the links; both run the layout's inspection in the current folder and
  write its link there, so they run on a copy (as the README says);
- cosign checks the provenance and the SBOM as Sigstore bundles, offline, with
  the functionary's public key.

The two in-toto binaries come pinned from Debian (build-support/verifiers);
in-toto-verify is the one installed with the tests' requirements.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from e2e.test_attestations import TARGETS, stem

from wasm_attest.keys import load_public_key
from wasm_attest.verification import FinalProductError, verify_attestations

VERIFIERS = ("in-toto-verify", "in-toto-golang", "cosign slsaprovenance1", "cosign cyclonedx")


def run_verifier(verifier: str, bundle: Path, name: str, tools: dict[str, Path], keys: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    """Runs one verifier on `bundle` (a copy) as a user would; its exit status is the verdict."""
    if verifier == "in-toto-verify":
        command = [str(Path(sys.executable).parent / "in-toto-verify"), "--layout", "root.layout", "--verification-keys", str(keys["owner"]), "--link-dir", "."]
    elif verifier == "in-toto-golang":
        command = [str(tools["in-toto-golang"]), "verify", "-l", "root.layout", "-k", str(keys["owner"]), "-d", "."]
    else:
        kind = verifier.split()[1]
        attestation = f"{name}.provenance.sigstore.json" if kind == "slsaprovenance1" else f"{name}.sbom.sigstore.json"
        command = [
            str(tools["cosign"]), "verify-blob-attestation", "--key", str(keys["functionary"]), "--bundle", attestation,
            "--insecure-ignore-tlog", "--type", kind, f"{name}.wasm",
        ]
    return subprocess.run(command, cwd=bundle, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("verifier", VERIFIERS)
@pytest.mark.parametrize("folder", sorted(TARGETS))
def test_verifier_accepts_the_bundle_and_rejects_a_modified_component(
    dist: Path,
    reference_verifiers: dict[str, Path],
    development_public_keys: dict[str, Path],
    folder: str,
    verifier: str,
    tmp_path: Path,
) -> None:
    name = stem(folder)
    bundle = shutil.copytree(dist / folder, tmp_path / "bundle")
    accepted = run_verifier(verifier, bundle, name, reference_verifiers, development_public_keys)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr

    shutil.rmtree(bundle)
    bundle = shutil.copytree(dist / folder, tmp_path / "bundle")
    with open(bundle / f"{name}.wasm", "ab") as component:
        component.write(b"\0")
    rejected = run_verifier(verifier, bundle, name, reference_verifiers, development_public_keys)
    assert rejected.returncode != 0, rejected.stdout + rejected.stderr


@pytest.mark.parametrize("verifier", ["in-toto-verify", "in-toto-golang"])
def test_what_in_toto_leaves_in_the_folder_fails_our_verification(
    dist: Path, reference_verifiers: dict[str, Path], development_public_keys: dict[str, Path], verifier: str, tmp_path: Path
) -> None:
    """Run in the bundle folder, in-toto's verifiers leave an unsigned link there; ours must refuse it, saying why."""
    folder = "testprojects.hello/hello"
    bundle = shutil.copytree(dist / folder, tmp_path / "bundle")
    assert run_verifier(verifier, bundle, "hello", reference_verifiers, development_public_keys).returncode == 0
    assert (bundle / "final-products-on-disk.link").is_file()
    with pytest.raises(FinalProductError, match="final-products-on-disk.link.*run in-toto-verify on a copy"):
        verify_attestations(bundle, trusted_owner_keys=[load_public_key(development_public_keys["owner"])])
