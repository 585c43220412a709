"""End to end: the tamper matrix, on real bundles that `./pants package` produced.

Each case changes one thing about a copy of a real bundle, the way an
attacker would (forged metadata is re-signed with real keys: the build
functionary's own key when the attacker is a compromised builder, a stranger's
key otherwise), and the standalone `wasm-attest verify` must refuse it, naming
the step, the artifact and the check that failed. Trust comes from the owner
key given on the command line only.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from in_toto.models.metadata import Metadata

from wasm_attest import cli
from wasm_attest.keys import SigningKey, load_signing_key
from wasm_attest.layout import sign_layout
from wasm_attest.links import sign_link

BUNDLE = "testprojects.exclusions/exclusions"
OTHER_BUNDLE = "testprojects.serde-json/serde-json"
DEV_KEYS = Path(os.environ["HOME"], ".config", "wasm-attest", "dev-keys")


def write_public_key(private_pem: Path, destination: Path) -> Path:
    public = serialization.load_pem_private_key(private_pem.read_bytes(), None).public_key()
    destination.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return destination


def stranger_key(folder: Path) -> SigningKey:
    """A key the layout knows nothing about."""
    path = folder / "stranger.pem"
    path.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return load_signing_key(path)


def link_path(bundle: Path, step: str) -> Path:
    (path,) = bundle.glob(f"{step}.*.link")
    return path


def resign_link(bundle: Path, step: str, signer: SigningKey, change: Callable[[object], None]) -> None:
    """Rewrites a step's link after `change`, signed by `signer`, under the name verifiers look for."""
    original = link_path(bundle, step)
    link = Metadata.load(str(original)).get_payload()
    change(link)
    signed = sign_link(link, signer.signer)
    original.unlink()
    (bundle / signed.file_name).write_bytes(signed.content)


def functionary() -> SigningKey:
    return load_signing_key(DEV_KEYS / "functionary.pem")


def modify_component(bundle: Path, tmp: Path) -> None:
    with open(bundle / "exclusions.wasm", "ab") as component:
        component.write(b"\0")


def modify_sbom(bundle: Path, tmp: Path) -> None:
    sbom = json.loads((bundle / "exclusions.cdx.json").read_text())
    sbom["components"] = [c for c in sbom["components"] if c["name"] != "cfg-if"]
    (bundle / "exclusions.cdx.json").write_text(json.dumps(sbom))


def replace_lockfile(bundle: Path, tmp: Path) -> None:
    (bundle / "Cargo.lock").write_text((bundle / "Cargo.lock").read_text().replace('version = "1.0.152"', 'version = "1.0.200"', 1))


def modify_vendored_crate_between_vendor_and_build(bundle: Path, tmp: Path) -> None:
    """A compromised builder (it holds the build key) built from a patched vendored serde."""

    def patch(link) -> None:
        path = next(p for p in sorted(link.materials) if p.startswith("vendor/serde-1.0.152/src/"))
        link.materials[path] = {"sha256": "0" * 64}

    resign_link(bundle, "build", functionary(), patch)


def modify_compiled_crate_between_dependencies_and_build(bundle: Path, tmp: Path) -> None:
    """A compromised builder (it holds the build key) linked the component against a patched compiled cfg-if."""

    def patch(link) -> None:
        path = next(p for p in sorted(link.materials) if p.startswith("target/") and p.endswith(".rlib"))
        link.materials[path] = {"sha256": "0" * 64}

    resign_link(bundle, "build", functionary(), patch)


def extra_compiled_crate_in_dependencies(bundle: Path, tmp: Path) -> None:
    """The shared compile step claims a compiled crate that nothing vendored explains, and the build used it."""
    planted = "target/wasm32-wasip2/release/deps/libplanted-0000000000000000.rlib"
    resign_link(bundle, "build", functionary(), lambda link: link.materials.update({planted: {"sha256": "2" * 64}}))


def link_signed_by_unauthorised_key(bundle: Path, tmp: Path) -> None:
    resign_link(bundle, "build", stranger_key(tmp), lambda link: None)


def missing_link(bundle: Path, tmp: Path) -> None:
    link_path(bundle, "sbom").unlink()


def replay_link_from_another_build(bundle: Path, tmp: Path, other: Path) -> None:
    shutil.copy2(link_path(other, "package"), link_path(bundle, "package"))


def layout_resigned_by_someone_else(bundle: Path, tmp: Path) -> None:
    layout = Metadata.load(str(bundle / "root.layout")).get_payload()
    (bundle / "root.layout").write_bytes(sign_layout(layout, functionary().signer))


def owner_key_swapped_inside_the_folder(bundle: Path, tmp: Path) -> None:
    """The attacker signs their own layout and ships their key as owner.pub next to it."""
    attacker = stranger_key(tmp)
    layout = Metadata.load(str(bundle / "root.layout")).get_payload()
    (bundle / "root.layout").write_bytes(sign_layout(layout, attacker.signer))
    (bundle / "owner.pub").write_bytes(attacker.public_key.keyval["public"].encode())


def extra_product_in_a_step(bundle: Path, tmp: Path) -> None:
    resign_link(bundle, "build", functionary(), lambda link: link.products.update({"backdoor.so": {"sha256": "1" * 64}}))


def provenance_about_another_component(bundle: Path, tmp: Path, other: Path) -> None:
    shutil.copy2(other / "serde-json.intoto.jsonl", bundle / "exclusions.intoto.jsonl")


# case -> (tamper, expected step, expected artifact (substring), expected check (substring))
CASES = {
    "modified component": (modify_component, "package", "exclusions.wasm", "final product"),
    "modified SBOM": (modify_sbom, "package", "exclusions.cdx.json", "final product"),
    "Cargo.lock replaced after the build": (replace_lockfile, "package", "Cargo.lock", "final product"),
    "vendored crate modified between vendor and build": (
        modify_vendored_crate_between_vendor_and_build,
        "build",
        "vendor/serde-1.0.152/src/",
        "expected_materials",
    ),
    "compiled crate modified between dependencies and build": (
        modify_compiled_crate_between_dependencies_and_build,
        "build",
        "target/",
        "expected_materials",
    ),
    "compiled crate the dependencies step did not produce": (
        extra_compiled_crate_in_dependencies,
        "build",
        "libplanted-0000000000000000.rlib",
        "expected_materials",
    ),
    "link signed by an unauthorised key": (link_signed_by_unauthorised_key, "build", "build.", "functionar"),
    "missing link": (missing_link, "sbom", "sbom", "link"),
    "layout re-signed by someone other than the owner": (
        layout_resigned_by_someone_else,
        "layout",
        "root.layout",
        "layout signature",
    ),
    "owner key swapped inside the folder": (owner_key_swapped_inside_the_folder, "layout", "root.layout", "layout signature"),
    "extra unexpected file among a step's products": (
        extra_product_in_a_step,
        "build",
        "backdoor.so",
        "expected_products",
    ),
}
CASES_WITH_ANOTHER_BUILD = {
    "link from another build replayed": (replay_link_from_another_build, "package", "", ""),
    "provenance whose subject does not match": (
        provenance_about_another_component,
        None,
        "exclusions.intoto.jsonl",
        "",
    ),
}


def verify(bundle: Path, owner_pub: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = cli.main(["verify", str(bundle), "--owner-key", str(owner_pub), "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def bundle_and_key(dist: Path, tmp_path: Path) -> tuple[Path, Path]:
    bundle = shutil.copytree(dist / BUNDLE, tmp_path / "bundle")
    owner_pub = write_public_key(DEV_KEYS / "owner.pem", tmp_path / "owner.pub")
    return bundle, owner_pub


def test_the_untouched_bundle_verifies(bundle_and_key: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, report = verify(*bundle_and_key, capsys)
    assert code == 0 and report["verified"] is True, report


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_is_caught_and_named(
    bundle_and_key: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    bundle, owner_pub = bundle_and_key
    tamper, step, artifact, check = CASES[case]
    tamper(bundle, tmp_path)
    code, report = verify(bundle, owner_pub, capsys)
    assert code == 1, report
    error = report["error"]
    assert error["step"] == step, error
    assert artifact in (error["artifact"] or ""), error
    assert check in error["check"], error


@pytest.mark.parametrize("case", sorted(CASES_WITH_ANOTHER_BUILD))
def test_material_from_another_build_is_caught(
    bundle_and_key: tuple[Path, Path], dist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    bundle, owner_pub = bundle_and_key
    tamper, step, artifact, check = CASES_WITH_ANOTHER_BUILD[case]
    tamper(bundle, tmp_path, dist / OTHER_BUNDLE)
    code, report = verify(bundle, owner_pub, capsys)
    assert code == 1, report
    error = report["error"]
    if step is not None:
        assert error["step"] == step, error
    assert artifact in (error["artifact"] or ""), error
    assert check in error["check"], error
    assert error["message"]


def test_an_expired_layout_is_refused(bundle_and_key: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, report = verify(*bundle_and_key, capsys, "--now", "2100-01-01T00:00:00Z")
    assert code == 1
    assert report["error"]["step"] == "layout" and "expir" in report["error"]["check"]


def test_an_owner_key_inside_the_folder_is_never_trusted(
    bundle_and_key: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, owner_pub = bundle_and_key
    shutil.copy2(owner_pub, bundle / "owner.pub")
    code = cli.main(["verify", str(bundle), "--owner-key", str(bundle / "owner.pub")])
    assert code == 2
    assert "owner.pub" in capsys.readouterr().err
