"""Verification of a fake four-step pipeline (vendor -> build -> sbom -> package) over real files.

The test plays the Pants plugin: it writes real sources, "vendors", "builds",
makes an "SBOM", assembles `dist/`, hashes the files as Pants' digests would,
and signs links, layout and provenance with real keys. Then both our
verification and the reference `in-toto-verify` judge the result.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, NoEncryption, PrivateFormat
from in_toto.models.metadata import Envelope, Metadata

from wasm_attest.keys import SigningKey, load_signing_key, public_key_pem
from wasm_attest.layout import ArtifactMatch, StepPlan, derive_layout, layout_files, sign_layout
from wasm_attest.links import build_link, link_file_name, link_payload, sign_link
from wasm_attest.provenance import (
    WASM_COMPONENT_BUILD_TYPE,
    Provenance,
    ResourceDescriptor,
    datetime_from_source_date_epoch,
    sign_provenance,
)
from wasm_attest.verification import (
    ArtifactRuleError,
    FinalProductError,
    LayoutExpiredError,
    LayoutSignatureError,
    LinkSignatureError,
    MissingLinkError,
    ProvenanceSignatureError,
    ProvenanceSubjectError,
    UnauthorizedLinkError,
    VerificationError,
    verify_attestations,
)

EXPIRES = datetime(2099, 1, 1, tzinfo=timezone.utc)
SOURCE_DATE_EPOCH = "1700000000"
OWNER_PASSWORD_VAR = "WASM_ATTEST_TEST_OWNER_PASSWORD"
SOURCES = {
    "Cargo.toml": b'[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nserde = "1"\n',
    "Cargo.lock": b'version = 4\n\n[[package]]\nname = "serde"\nversion = "1.0.152"\n',
    "src/lib.rs": b"pub fn add(a: u32, b: u32) -> u32 { a + b }\n",
}
CRATE = {
    "vendor/serde-1.0.152/src/lib.rs": b"//! serde\n",
    "vendor/serde-1.0.152/.cargo-checksum.json": b'{"files":{},"package":"bb7d"}',
}


@dataclass(frozen=True)
class Keys:
    owner: SigningKey
    functionary: SigningKey
    intruder: SigningKey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    password = "owner-password-for-tests"
    owner_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(password.encode())
    )
    (folder / "owner.pem").write_bytes(owner_pem)
    for name in ("functionary", "intruder"):
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        (folder / f"{name}.pem").write_bytes(pem)
    return Keys(
        owner=load_signing_key(folder / "owner.pem", password_env_var=OWNER_PASSWORD_VAR, environ={OWNER_PASSWORD_VAR: password}),
        functionary=load_signing_key(folder / "functionary.pem"),
        intruder=load_signing_key(folder / "intruder.pem"),
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests(root: Path, paths) -> dict[str, str]:
    """What Pants' digests hold for these files (the plugin never re-hashes; the test has no Pants)."""
    return {path: sha((root / path).read_bytes()) for path in paths}


def write_files(root: Path, files: dict) -> None:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)


def step_plans(functionary: SigningKey) -> list[StepPlan]:
    keys = (functionary.public_key,)
    from_vendor = (ArtifactMatch("Cargo.toml", "vendor", "materials"), ArtifactMatch("Cargo.lock", "vendor", "materials"))
    final = (ArtifactMatch("app.wasm", "build"), ArtifactMatch("app.cdx.json", "sbom"), ArtifactMatch("Cargo.lock", "vendor", "materials"))
    return [
        StepPlan("vendor", ("cargo", "vendor", "--locked"), keys, source_inputs=("Cargo.toml", "Cargo.lock"), creates=("vendor/*",)),
        StepPlan(
            "build",
            ("cargo", "build", "--release", "--locked", "--offline", "--target", "wasm32-wasip2"),
            keys,
            consumes=(ArtifactMatch("vendor/*", "vendor"),) + from_vendor,
            source_inputs=("src/*",),
            creates=("app.wasm",),
        ),
        StepPlan(
            "sbom",
            ("wasm-attest", "sbom"),
            keys,
            consumes=(ArtifactMatch("Cargo.lock", "vendor", "materials"), ArtifactMatch("app.wasm", "build")),
            creates=("app.cdx.json",),
        ),
        StepPlan("package", ("wasm-attest", "package"), keys, consumes=final, passes_through=final),
    ]


def build_bundle(root: Path, keys: Keys, *, expires: datetime = EXPIRES) -> Path:
    """Runs the fake pipeline in `root` and returns `root/dist` with the component and its attestations."""
    work = root / "work"
    write_files(work, SOURCES)
    signed = []

    write_files(work, CRATE)  # "cargo vendor"
    vendor_materials = digests(work, ["Cargo.toml", "Cargo.lock"])
    signed.append(build_link(step="vendor", command=["cargo", "vendor", "--locked"], materials=vendor_materials, products=digests(work, CRATE)))

    build_inputs = sorted(SOURCES) + sorted(CRATE)
    wasm = b"\0asm\x0d\x00\x01\x00" + hashlib.sha256(b"".join((work / path).read_bytes() for path in build_inputs)).digest()
    write_files(work, {"app.wasm": wasm})  # "cargo build"
    signed.append(
        build_link(
            step="build",
            command=["cargo", "build", "--release", "--locked", "--offline", "--target", "wasm32-wasip2"],
            materials=digests(work, build_inputs),
            products=digests(work, ["app.wasm"]),
            stderr_sha256=sha(b"   Compiling app v0.1.0\n"),
            environment={"toolchain": "rust-1.96.0"},
        )
    )

    sbom = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"hashes": [sha(wasm)]}}}).encode()
    write_files(work, {"app.cdx.json": sbom})  # the SBOM, in-process
    signed.append(
        build_link(step="sbom", command=["wasm-attest", "sbom"], materials=digests(work, ["Cargo.lock", "app.wasm"]), products=digests(work, ["app.cdx.json"]))
    )

    dist = root / "dist"
    final = ["app.wasm", "app.cdx.json", "Cargo.lock"]
    for path in final:  # "package"
        write_files(dist, {path: (work / path).read_bytes()})
    signed.append(build_link(step="package", command=["wasm-attest", "package"], materials=digests(work, final), products=digests(dist, final)))

    for link in signed:
        envelope = sign_link(link, keys.functionary.signer)
        (dist / envelope.file_name).write_bytes(envelope.content)
    layout = derive_layout(step_plans(keys.functionary), final_products=final, expires=expires)
    for name, content in layout_files(layout, keys.owner.signer).items():
        (dist / name).write_bytes(content)
    (dist / "app.intoto.jsonl").write_bytes(sign_provenance(provenance_for(wasm), keys.functionary.signer))
    return dist


def provenance_for(wasm: bytes) -> Provenance:
    moment = datetime_from_source_date_epoch(SOURCE_DATE_EPOCH)
    return Provenance(
        subject_name="app.wasm",
        subject_sha256=sha(wasm),
        build_type=WASM_COMPONENT_BUILD_TYPE,
        external_parameters={"target": "testprojects/app:app", "features": [], "profile": "release"},
        resolved_dependencies=[
            ResourceDescriptor("file:Cargo.lock", {"sha256": sha(SOURCES["Cargo.lock"])}, "Cargo.lock"),
            ResourceDescriptor("pkg:cargo/serde@1.0.152", {"sha256": "bb7d1f0d3021d347a83e556fc4683dea2ea09d87bccdf88ff5c12545d89d5efb"}, "serde"),
        ],
        builder_id="https://wasm-attest.dev/builders/pants/v1",
        started_on=moment,
        finished_on=moment,
    )


@pytest.fixture
def dist(tmp_path: Path, keys: Keys) -> Path:
    return build_bundle(tmp_path, keys)


def verify(dist: Path, keys: Keys, **kwargs):
    return verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], **kwargs)


def link_path(dist: Path, step: str, key: SigningKey) -> Path:
    return dist / link_file_name(step, key.keyid)


# --- the reference verifier --------------------------------------------------


IN_TOTO_VERIFY_ENTRY_POINT = [
    sys.executable,
    "-c",
    "import sys; from in_toto.in_toto_verify import main; sys.argv[0] = 'in-toto-verify'; main()",
]


def in_toto_verify_script() -> list[str]:
    """The reference verifier's console script: next to the interpreter (a venv, or the venv Pants builds from
    the tests' pex), else on PATH. Absent means in-toto is not installed as it should be: fail, don't skip."""
    script = Path(sys.executable).with_name("in-toto-verify")
    if script.is_file():
        return [str(script)]
    found = shutil.which("in-toto-verify")
    if found:
        return [found]
    pytest.fail(f"in-toto-verify is neither next to {sys.executable} nor on PATH; install in-toto==3.1.0 in the test resolve.")


def run_in_toto_verify(command: list[str], dist: Path, owner_pub: Path) -> subprocess.CompletedProcess:
    """Runs in the bundle folder: the inspection hashes the files of its working directory.

    The entry-point form is the same `main` the script calls; it is run with
    `-c` because `python -m in_toto.in_toto_verify` silently does nothing (the
    module has no `__main__` guard) and would make every check below pass.
    PYTHONPATH carries this process's sys.path so that form finds in-toto
    inside a pex too.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    return subprocess.run(
        [*command, "--layout", "root.layout", "--verification-keys", str(owner_pub), "--link-dir", ".", "--verbose"],
        cwd=dist,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(params=["console-script", "entry-point"])
def in_toto_verify(request: pytest.FixtureRequest) -> list[str]:
    return in_toto_verify_script() if request.param == "console-script" else IN_TOTO_VERIFY_ENTRY_POINT


@pytest.fixture
def owner_pub(tmp_path: Path, keys: Keys) -> Path:
    """The trusted key, written outside the bundle folder."""
    path = tmp_path / "owner.pub"
    path.write_bytes(public_key_pem(keys.owner.public_key))
    return path


def test_reference_in_toto_verify_accepts_the_bundle_and_rejects_a_modified_product(
    in_toto_verify: list[str], dist: Path, owner_pub: Path
) -> None:
    accepted = run_in_toto_verify(in_toto_verify, dist, owner_pub)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "The software product passed all verification." in accepted.stdout + accepted.stderr
    assert "Executing command for inspection 'final-products-on-disk'" in accepted.stdout + accepted.stderr

    (dist / "app.wasm").write_bytes((dist / "app.wasm").read_bytes() + b"\0")
    rejected = run_in_toto_verify(in_toto_verify, dist, owner_pub)
    assert rejected.returncode == 1, rejected.stdout + rejected.stderr
    assert "RuleVerificationError: 'DISALLOW *' matched the following artifacts: ['app.wasm']" in rejected.stdout + rejected.stderr


def test_reference_in_toto_verify_rejects_a_deleted_product(dist: Path, owner_pub: Path) -> None:
    (dist / "app.cdx.json").unlink()
    rejected = run_in_toto_verify(in_toto_verify_script(), dist, owner_pub)
    assert rejected.returncode == 1
    assert "'REQUIRE app.cdx.json' did not find app.cdx.json" in rejected.stdout + rejected.stderr


def test_reference_in_toto_verify_rejects_a_layout_signed_by_another_key(tmp_path: Path, dist: Path, keys: Keys) -> None:
    intruder_pub = tmp_path / "intruder.pub"
    intruder_pub.write_bytes(public_key_pem(keys.intruder.public_key))
    rejected = run_in_toto_verify(in_toto_verify_script(), dist, intruder_pub)
    assert rejected.returncode == 1
    assert "SignatureVerificationError" in rejected.stdout + rejected.stderr


# --- our verification --------------------------------------------------------


def test_the_bundle_verifies_and_the_report_lists_the_checks(dist: Path, keys: Keys) -> None:
    report = verify(dist, keys)
    assert [passed.item for passed in report.items] == ["layout", "vendor", "build", "sbom", "package", "app.intoto.jsonl"]
    assert report.checks_for("layout")[0] == f"signed by trusted owner key {keys.owner.keyid}"
    assert report.checks_for("build")[0].endswith(link_file_name("build", keys.functionary.keyid))
    assert "expected_materials: MATCH vendor/* WITH PRODUCTS FROM vendor; MATCH Cargo.toml WITH MATERIALS FROM vendor; " in " ".join(
        report.checks_for("build")
    )
    assert report.checks_for("package")[-2:] == (
        "3 final product(s) on disk match its link: Cargo.lock, app.cdx.json, app.wasm",
        "no other files than the final products and the attestations",
    )
    assert report.checks_for("app.intoto.jsonl")[-1] == "subject 'app.wasm' sha256 equals the file on disk"
    assert report.skipped_inspections == ("final-products-on-disk",)
    assert report.warnings == ()
    assert "ok  signed by" in report.summary()


def test_a_modified_final_file_is_named(dist: Path, keys: Keys) -> None:
    (dist / "app.wasm").write_bytes(b"\0asm\x0d\x00\x01\x00swapped")
    with pytest.raises(FinalProductError, match=r"step 'package', artifact 'app.wasm' \(check: final product on disk matches the last link\)") as caught:
        verify(dist, keys)
    assert (caught.value.step, caught.value.artifact) == ("package", "app.wasm")


def test_a_missing_final_file_is_named(dist: Path, keys: Keys) -> None:
    (dist / "Cargo.lock").unlink()
    with pytest.raises(FinalProductError, match=r"artifact 'Cargo.lock'.*is missing"):
        verify(dist, keys)


def test_an_unattested_file_in_the_folder_is_named(dist: Path, keys: Keys) -> None:
    (dist / "sub").mkdir()
    (dist / "sub" / "run-me.sh").write_text("#!/bin/sh\n")
    with pytest.raises(FinalProductError, match=r"step 'package', artifact 'sub/run-me.sh' \(check: no unattested files\)"):
        verify(dist, keys)
    assert verify(dist, keys, allow_unattested_files=True)


def test_what_in_toto_verify_leaves_behind_does_not_disturb_our_verification(dist: Path, owner_pub: Path, keys: Keys) -> None:
    assert run_in_toto_verify(in_toto_verify_script(), dist, owner_pub).returncode == 0
    assert (dist / "final-products-on-disk.link").is_file()  # in-toto-verify persists its inspection's link
    assert verify(dist, keys)


def test_a_modified_link_fails_its_signature(dist: Path, keys: Keys) -> None:
    path = link_path(dist, "build", keys.functionary)
    document = json.loads(path.read_bytes())
    payload = json.loads(base64.b64decode(document["payload"]))
    payload["products"]["app.wasm"]["sha256"] = "0" * 64
    document["payload"] = base64.b64encode(json.dumps(payload, sort_keys=True).encode()).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(LinkSignatureError, match=rf"step 'build', artifact '{path.name}' \(check: link signature\).*modified after signing") as caught:
        verify(dist, keys)
    assert caught.value.step == "build"


def test_a_link_signed_by_an_unauthorised_key(dist: Path, keys: Keys) -> None:
    authorised = link_path(dist, "build", keys.functionary)
    link = Metadata.load(str(authorised)).get_payload()
    authorised.unlink()
    forged = sign_link(link, keys.intruder.signer)
    (dist / forged.file_name).write_bytes(forged.content)
    with pytest.raises(
        UnauthorizedLinkError, match=rf"step 'build', artifact '{forged.file_name}' \(check: link signed by an authorised functionary\).*signed by {keys.intruder.keyid}"
    ):
        verify(dist, keys)


def test_an_unauthorised_link_under_the_authorised_file_name(dist: Path, keys: Keys) -> None:
    authorised = link_path(dist, "sbom", keys.functionary)
    forged = sign_link(Metadata.load(str(authorised)).get_payload(), keys.intruder.signer)
    authorised.write_bytes(forged.content)
    with pytest.raises(LinkSignatureError, match=rf"step 'sbom'.*signatures present: {keys.intruder.keyid}"):
        verify(dist, keys)


def test_a_missing_link_is_named(dist: Path, keys: Keys) -> None:
    link_path(dist, "sbom", keys.functionary).unlink()
    with pytest.raises(MissingLinkError, match=rf"step 'sbom', artifact 'sbom.{keys.functionary.keyid[:8]}.link' \(check: link present\)"):
        verify(dist, keys)


def test_an_expired_layout(dist: Path, keys: Keys) -> None:
    with pytest.raises(LayoutExpiredError, match=r"artifact 'root.layout' \(check: layout expiry\): the layout expired on 2099-01-01T00:00:00Z"):
        verify(dist, keys, now=EXPIRES + timedelta(seconds=1))
    assert verify(dist, keys, now=EXPIRES - timedelta(seconds=1))


def test_a_layout_built_with_a_past_expiry_fails_now(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, expires=datetime.now(timezone.utc) - timedelta(days=1))
    with pytest.raises(LayoutExpiredError):
        verify(dist, keys)


def test_a_layout_signed_by_someone_else(dist: Path, keys: Keys) -> None:
    layout = Metadata.load(str(dist / "root.layout")).get_payload()
    (dist / "root.layout").write_bytes(sign_layout(layout, keys.intruder.signer))
    with pytest.raises(LayoutSignatureError, match=rf"artifact 'root.layout' \(check: layout signature by the trusted owner key\).*signatures by {keys.intruder.keyid}"):
        verify(dist, keys)


def test_trust_comes_from_the_caller_not_the_folder(dist: Path, keys: Keys) -> None:
    with pytest.raises(LayoutSignatureError, match="no trusted layout owner key was given"):
        verify_attestations(dist, trusted_owner_keys=[])
    # The functionary key is published in the folder; it is no owner key.
    with pytest.raises(LayoutSignatureError):
        verify_attestations(dist, trusted_owner_keys=[keys.functionary.public_key])


def test_a_provenance_subject_that_does_not_match_the_component(dist: Path, keys: Keys) -> None:
    (dist / "app.intoto.jsonl").write_bytes(sign_provenance(provenance_for(b"another build"), keys.functionary.signer))
    with pytest.raises(ProvenanceSubjectError, match=r"step 'package', artifact 'app.wasm' \(check: provenance subject digest\)"):
        verify(dist, keys)


def test_provenance_signed_by_an_unauthorised_key(dist: Path, keys: Keys) -> None:
    wasm = (dist / "app.wasm").read_bytes()
    (dist / "app.intoto.jsonl").write_bytes(sign_provenance(provenance_for(wasm), keys.intruder.signer))
    with pytest.raises(ProvenanceSignatureError, match=r"artifact 'app.intoto.jsonl' \(check: provenance signature\)"):
        verify(dist, keys)


def test_missing_provenance(dist: Path, keys: Keys) -> None:
    (dist / "app.intoto.jsonl").unlink()
    with pytest.raises(VerificationError, match=r"check: provenance present"):
        verify(dist, keys)
    assert verify(dist, keys, require_provenance=False)


def test_a_validly_signed_link_that_breaks_the_chain_names_step_artifact_and_rule(dist: Path, keys: Keys) -> None:
    """A functionary who swaps the build output: signatures verify, the artifact rules do not."""
    path = link_path(dist, "build", keys.functionary)
    link = Metadata.load(str(path)).get_payload()
    link.products = {"app.wasm": {"sha256": sha(b"evil")}}
    path.write_bytes(sign_link(link, keys.functionary.signer).content)
    with pytest.raises(ArtifactRuleError) as caught:
        verify(dist, keys)
    message = str(caught.value)
    assert "step 'sbom', artifact 'app.wasm' (check: expected_materials: DISALLOW *)" in message
    assert "'app.wasm' is not consumed by 'MATCH app.wasm WITH PRODUCTS FROM build'" in message
    assert f"differs from the {sha(b'evil')} that step 'build' recorded" in message


def test_inspections_are_never_run(tmp_path: Path, dist: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = Metadata.load(str(dist / "root.layout")).get_payload()
    marker = tmp_path / "inspection-ran"
    layout.inspect[0].run = ["touch", str(marker)]
    (dist / "root.layout").write_bytes(sign_layout(layout, keys.owner.signer))
    monkeypatch.chdir(dist)
    assert verify(dist, keys).skipped_inspections == ("final-products-on-disk",)
    assert not marker.exists()


def test_the_same_inputs_give_identical_links_and_provenance(tmp_path: Path, keys: Keys) -> None:
    first, second = build_bundle(tmp_path / "clone-1", keys), build_bundle(tmp_path / "clone-2", keys)
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:
        if name.endswith(".link"):
            assert link_payload((first / name).read_bytes()) == link_payload((second / name).read_bytes()), name
    provenance = [Envelope.from_dict(json.loads((folder / "app.intoto.jsonl").read_bytes())).payload for folder in (first, second)]
    assert provenance[0] == provenance[1]
    # Ed25519 signatures are deterministic too, so links and provenance are byte-identical.
    for name in names:
        if name.endswith((".link", ".intoto.jsonl", ".pub")) or name in ("app.wasm", "app.cdx.json", "Cargo.lock"):
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
