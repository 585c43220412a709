"""Verification of a fake four-step pipeline (vendor -> build -> sbom -> package) over real files.

`bundles` plays the Pants plugin and signs links, layout and provenance with
real keys. Then both our verification and the reference `in-toto-verify`
judge the result.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

# A sibling helper module that pytest imports by name; Pants cannot infer it, so BUILD names it.
from wasm_attest_tests.bundles import (
    EXPIRES,
    LINKED,
    SOURCES,
    Keys,
    build_bundle,
    link_path,
    make_keys,
    provenance_for,
    rewrite_layout,
    rewrite_link,
    sha,
    snapshot,
)
from in_toto.models.metadata import Envelope, Metadata

from wasm_attest.dep_v0 import AuditablePackage, DependencyList
from wasm_attest.keys import public_key_pem
from wasm_attest.layout import sign_layout
from wasm_attest.links import link_file_name, link_payload, sign_link
from wasm_attest.provenance import sign_provenance
from wasm_attest.sigstore.bundles import cyclonedx_statement, sign_statement_bundle
from wasm_attest.verification import (
    ArtifactRuleError,
    DependencyRecordsError,
    FinalProductError,
    InspectionFailedError,
    LayoutExpiredError,
    LayoutSignatureError,
    LinkFileNameError,
    LinkSignatureError,
    LockfileMismatchError,
    ProvenanceVerificationError,
    MissingLinkError,
    ProvenanceSignatureError,
    ProvenanceSubjectError,
    SbomComponentError,
    UnauthorizedLinkError,
    VerificationError,
    failure_json,
    verify_attestations,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def dist(tmp_path: Path, keys: Keys) -> Path:
    return build_bundle(tmp_path, keys)


def verify(dist: Path, keys: Keys, **kwargs):
    return verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key], **kwargs)


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
    assert [passed.item for passed in report.items] == [
        "layout", "vendor", "build", "embed", "sbom", "package", "app.intoto.jsonl", "app.provenance.sigstore.json", "app.sbom.sigstore.json"
    ]
    assert report.checks_for("layout")[0] == f"signed by trusted owner key {keys.owner.keyid}"
    assert report.checks_for("build")[0].endswith(link_file_name("build", keys.functionary.keyid))
    assert "expected_materials: MATCH vendor/* WITH PRODUCTS FROM vendor; MATCH Cargo.toml WITH MATERIALS FROM vendor; " in " ".join(
        report.checks_for("build")
    )
    assert report.checks_for("package")[-3:-1] == (
        "3 final product(s) on disk match its link: Cargo.lock, app.cdx.json, app.wasm",
        "every other file is a verified link, the layout, a key the layout names, or a provenance or Sigstore bundle checked below",
    )
    lockfile = f"Cargo.lock in the folder is the one it used ({sha(SOURCES['Cargo.lock'])})"
    assert all(lockfile in report.checks_for(step) for step in ("vendor", "build", "embed", "sbom", "package"))
    assert report.checks_for("sbom")[-1] == "app.cdx.json metadata.component sha256 equals app.wasm"
    assert report.checks_for("app.intoto.jsonl")[-2:] == (
        "subject 'app.wasm' sha256 equals the file on disk",
        "the build ran isolated (bubblewrap)",
    )
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


def test_what_in_toto_verify_leaves_behind_is_refused_with_advice(dist: Path, owner_pub: Path, keys: Keys) -> None:
    """Run in the bundle, in-toto-verify writes its inspection's unsigned link there (README: run it on a copy)."""
    assert run_in_toto_verify(in_toto_verify_script(), dist, owner_pub).returncode == 0
    assert (dist / "final-products-on-disk.link").is_file()
    with pytest.raises(FinalProductError, match=r"artifact 'final-products-on-disk.link' \(check: no unattested files\).*run in-toto-verify on a copy"):
        verify(dist, keys)


def _random_key_pem() -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("payload.link", Path("/bin/ls").read_bytes(), "named like a link, but it is not signed in-toto link metadata"),
        ("x.pub", os.urandom(64), "the layout names no key with that keyid"),
        ("sub/build.link", b"{}", "in a subfolder"),
        ("other.intoto.jsonl", b"{}", "belongs to no delivered component"),
        ("other.sbom.sigstore.json", b"{}", "belongs to no delivered component"),
    ],
)
def test_files_named_like_attestations_are_checked_not_trusted(dist: Path, keys: Keys, name: str, content: bytes, why: str) -> None:
    (dist / name).parent.mkdir(exist_ok=True)
    (dist / name).write_bytes(content)
    with pytest.raises(FinalProductError, match=rf"artifact '{name}' \(check: no unattested files\).*{name} \(it [^)]*{why}"):
        verify(dist, keys)


def test_a_public_key_file_must_hold_the_key_its_name_claims(dist: Path, keys: Keys) -> None:
    (dist / f"{keys.functionary.keyid}.pub").write_bytes(_random_key_pem())
    with pytest.raises(FinalProductError, match=rf"{keys.functionary.keyid}.pub \(it holds another key"):
        verify(dist, keys)


def test_a_copy_of_a_verified_link_under_another_name_is_refused(dist: Path, keys: Keys) -> None:
    shutil.copy(link_path(dist, "build", keys.functionary), dist / "build.deadbeef.link")
    with pytest.raises(FinalProductError, match=r"build.deadbeef.link \(its file name does not match its signer"):
        verify(dist, keys)


def test_many_unattested_files_give_a_short_message(dist: Path, keys: Keys) -> None:
    (dist / "extra").mkdir()
    for number in range(300):
        (dist / "extra" / f"vendor-file-{number:03}.link").write_bytes(b"{}")
    with pytest.raises(FinalProductError) as caught:
        verify(dist, keys)
    message = str(caught.value)
    assert message.startswith("Verification failed at step 'package', artifact 'extra/vendor-file-000.link'")
    assert "300 file(s)" in message and "and 295 more" in message and len(message) < 1500


def test_a_renamed_link_says_its_name_does_not_match_its_signer(dist: Path, keys: Keys) -> None:
    link_path(dist, "build", keys.functionary).rename(dist / "build.deadbeef.link")
    with pytest.raises(
        LinkFileNameError,
        match=rf"artifact 'build.deadbeef.link' \(check: link file name matches its signer\): the file name build.deadbeef.link "
        rf"does not match its signer: it is signed by {keys.functionary.keyid}.*build.{keys.functionary.keyid[:8]}.link",
    ):
        verify(dist, keys)


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
    with pytest.raises(LayoutSignatureError, match=rf"artifact 'root.layout' \(check: layout signature by the trusted owner key\).*signatures by .*{keys.intruder.keyid}"):
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
    assert "step 'embed', artifact 'app.wasm' (check: expected_materials: DISALLOW *)" in message
    assert "'app.wasm' is not consumed by 'MATCH app.wasm WITH PRODUCTS FROM build'" in message
    assert f"differs from the {sha(b'evil')} that step 'build' recorded" in message


def test_inspections_are_not_run_by_default(tmp_path: Path, dist: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "inspection-ran"
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout.inspect[0], "run", ["touch", str(marker)]))
    monkeypatch.chdir(dist)
    assert verify(dist, keys).skipped_inspections == ("final-products-on-disk",)
    assert verify(dist, keys, allowed_inspections=[("touch",), ("touch", str(marker), "x")]).skipped_inspections == ("final-products-on-disk",)
    assert not marker.exists()


def test_an_allowed_inspection_runs_and_its_rules_are_checked(tmp_path: Path, dist: Path, keys: Keys) -> None:
    marker = tmp_path / "inspection-ran"
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout.inspect[0], "run", ["touch", str(marker)]))
    report = verify(dist, keys, allowed_inspections=[("touch", str(marker))])
    assert marker.exists()
    assert report.skipped_inspections == ()
    assert [passed.item for passed in report.items][-4:] == [
        "final-products-on-disk", "app.intoto.jsonl", "app.provenance.sigstore.json", "app.sbom.sigstore.json"
    ]
    assert report.checks_for("final-products-on-disk")[1].startswith("expected_materials: REQUIRE app.wasm; ")


def test_an_allowed_inspection_sees_copies_not_the_bundle(dist: Path, keys: Keys) -> None:
    """It may change its copies as it likes; the bundle stays as it was, and the rules judge the copies."""
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout.inspect[0], "run", ["rm", "app.wasm"]))
    before = snapshot(dist)
    report = verify(dist, keys, allowed_inspections=[("rm", "app.wasm")])  # products: ALLOW *
    assert snapshot(dist) == before
    assert "final-products-on-disk" in [passed.item for passed in report.items]


def test_an_allowed_inspection_that_fails_fails_verification(dist: Path, keys: Keys) -> None:
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout.inspect[0], "run", ["sh", "-c", "echo broken >&2; exit 3"]))
    with pytest.raises(InspectionFailedError, match=r"step 'final-products-on-disk' \(check: inspection exit status\).*exited with status 3.*broken"):
        verify(dist, keys, allowed_inspections=[("sh", "-c", "echo broken >&2; exit 3")])


def test_an_allowed_inspection_that_hangs_is_killed(dist: Path, keys: Keys) -> None:
    command = ("sh", "-c", "sleep 30 & sleep 30")
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout.inspect[0], "run", list(command)))
    started = time.monotonic()
    with pytest.raises(InspectionFailedError, match=r"check: inspection finished within the timeout\).*did not finish within 0.5 s"):
        verify(dist, keys, allowed_inspections=[command], inspection_timeout=0.5)
    assert time.monotonic() - started < 10


def test_an_allowed_inspection_that_cannot_start(dist: Path, keys: Keys) -> None:
    command = ("/nonexistent/inspector",)
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout.inspect[0], "run", list(command)))
    with pytest.raises(InspectionFailedError, match=r"check: inspection started\).*could not be started"):
        verify(dist, keys, allowed_inspections=[command])


def test_a_bundle_without_sbom_or_lockfile_among_the_final_products(tmp_path: Path, keys: Keys) -> None:
    """The checks hold for any layout: one whose last step delivers only the component still fails them."""
    for dropped, error, check in (
        ("app.cdx.json", SbomComponentError, "SBOM delivered"),
        ("Cargo.lock", LockfileMismatchError, "Cargo.lock delivered"),
    ):
        dist = build_bundle(tmp_path / dropped, keys)
        (dist / dropped).unlink()
        rewrite_link(dist, "package", keys, lambda link: [link.materials.pop(dropped), link.products.pop(dropped)])

        def without(layout) -> None:
            layout.steps[-1].expected_materials = layout.steps[-1].expected_products = [["ALLOW", "*"]]
            layout.inspect = []

        rewrite_layout(dist, keys.owner, without)
        with pytest.raises(error, match=rf"step 'package', artifact '{dropped}' \(check: {check}\)"):
            verify(dist, keys)


def test_the_json_report(dist: Path, keys: Keys) -> None:
    report = verify(dist, keys).to_json()
    assert report["verified"] is True and report["error"] is None
    assert report["steps"][0] == {"name": "layout", "checks": [f"signed by trusted owner key {keys.owner.keyid}", "not expired (expires 2099-01-01T00:00:00Z)"]}
    json.dumps(report)
    (dist / "app.wasm").write_bytes(b"swapped")
    with pytest.raises(VerificationError) as caught:
        verify(dist, keys)
    failure = failure_json(caught.value)
    assert set(failure) == set(report) and failure["verified"] is False
    assert failure["error"] == {
        "step": "package",
        "artifact": "app.wasm",
        "check": "final product on disk matches the last link",
        "message": str(caught.value),
    }


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


def test_the_three_dependency_records_are_checked_and_reported(dist: Path, keys: Keys) -> None:
    report = verify(dist, keys)
    assert "app.wasm: its .dep-v0, app.cdx.json and Cargo.lock name the same linked crates and versions" in report.checks_for(
        "embed"
    )


def test_an_embedded_list_that_disagrees_with_the_sbom_is_refused_with_a_diff(tmp_path: Path, keys: Keys) -> None:
    """Every signature and rule holds, but the embed step wrote another crate version than the SBOM lists."""
    serde_1_0_100 = AuditablePackage(name="serde", version="1.0.100", source="crates.io")
    dist = build_bundle(tmp_path / "build", keys, linked=DependencyList((LINKED.packages[0], serde_1_0_100), LINKED.format))
    with pytest.raises(DependencyRecordsError) as caught:
        verify(dist, keys)
    assert (caught.value.step, caught.value.artifact) == ("embed", "app.wasm")
    message = str(caught.value)
    assert "serde 1.0.100" in message and "serde 1.0.152" in message


def test_a_component_without_an_embedded_list_is_refused(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path / "build", keys, linked=None)
    with pytest.raises(DependencyRecordsError, match=r"carries no .dep-v0"):
        verify(dist, keys)


# --- messages that say what is wrong ----------------------------------------


def _edit_dsse_payload(path: Path, change) -> None:
    """Changes a DSSE file's statement and keeps its signatures: an edit after signing."""
    document = json.loads(path.read_bytes())
    envelope = document.get("dsseEnvelope", document)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    change(statement)
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(document) + "\n")


def test_an_edited_provenance_says_the_signature_does_not_match_the_payload(dist: Path, keys: Keys) -> None:
    _edit_dsse_payload(dist / "app.intoto.jsonl", lambda statement: statement["predicate"]["buildDefinition"].update(buildType="https://x"))
    with pytest.raises(
        ProvenanceSignatureError,
        match=rf"the signature by {keys.functionary.keyid}, a functionary the layout authorises for step 'package', does not "
        "match the payload: the provenance was changed after it was signed",
    ):
        verify(dist, keys)


def test_a_replayed_link_with_thousands_of_files_gives_a_readable_message(dist: Path, keys: Keys) -> None:
    """A vendor link from another build lists every vendored file; the message lists the first few and a count."""
    rewrite_link(dist, "build", keys, lambda link: link.materials.update({f"vendor/other-1.0.0/src/file{number:04}.rs": {"sha256": "0" * 64} for number in range(3000)}))
    with pytest.raises(ArtifactRuleError) as caught:
        verify(dist, keys)
    message = str(caught.value)
    assert len(message) < 3000, len(message)
    assert "and 2995 more (3000 in all)" in message and "the others likewise" in message


def test_a_json_failure_keeps_the_checks_that_passed(dist: Path, keys: Keys) -> None:
    (dist / "app.wasm").write_bytes(b"swapped")
    with pytest.raises(VerificationError) as caught:
        verify(dist, keys)
    failure = failure_json(caught.value)
    assert failure["layout"] == str(dist / "root.layout")
    assert failure["owner_keyids"] == [keys.owner.keyid] and failure["expires"] == "2099-01-01T00:00:00Z"
    steps = {step["name"]: step["checks"] for step in failure["steps"]}
    assert list(steps) == ["layout", "vendor", "build", "embed", "sbom", "package"]
    assert steps["layout"][0] == f"signed by trusted owner key {keys.owner.keyid}"
    assert steps["build"][0].endswith(link_file_name("build", keys.functionary.keyid))
    assert any(check.startswith("expected_products:") for check in steps["package"])


# --- the Sigstore bundles (what cosign verifies) -----------------------------


def test_the_sigstore_bundles_are_verified_and_reported(dist: Path, keys: Keys) -> None:
    report = verify(dist, keys)
    assert report.checks_for("app.provenance.sigstore.json") == (
        f"signed by {keys.functionary.keyid}, a functionary of step 'package'",
        "subject 'app.wasm' sha256 equals the file on disk",
        "its statement is the one app.intoto.jsonl carries",
    )
    assert report.checks_for("app.sbom.sigstore.json")[0] == f"signed by {keys.functionary.keyid}, a functionary of step 'sbom'"
    signatures = json.loads((dist / "app.sbom.sigstore.json").read_bytes())["dsseEnvelope"]["signatures"]
    assert [set(signature) for signature in signatures] == [{"sig"}]  # cosign skips a signature with another keyid


def test_an_edited_sigstore_bundle_fails_its_signature(dist: Path, keys: Keys) -> None:
    _edit_dsse_payload(dist / "app.sbom.sigstore.json", lambda statement: statement["predicate"].update(serialNumber="urn:uuid:0"))
    with pytest.raises(ProvenanceSignatureError, match=r"artifact 'app.sbom.sigstore.json' \(check: Sigstore bundle signature\)"):
        verify(dist, keys)


def test_a_sigstore_bundle_signed_by_an_intruder_fails(dist: Path, keys: Keys) -> None:
    statement = cyclonedx_statement("app.wasm", sha((dist / "app.wasm").read_bytes()), (dist / "app.cdx.json").read_bytes())
    (dist / "app.sbom.sigstore.json").write_bytes(sign_statement_bundle(statement, keys.intruder.signer))
    with pytest.raises(ProvenanceSignatureError, match="no signature in it verifies with a functionary key"):
        verify(dist, keys)


def test_a_signed_sigstore_bundle_about_another_sbom_fails(dist: Path, keys: Keys) -> None:
    sbom = json.loads((dist / "app.cdx.json").read_bytes())
    sbom["components"] = []
    statement = cyclonedx_statement("app.wasm", sha((dist / "app.wasm").read_bytes()), json.dumps(sbom).encode())
    (dist / "app.sbom.sigstore.json").write_bytes(sign_statement_bundle(statement, keys.functionary.signer))
    with pytest.raises(ProvenanceVerificationError, match=r"its predicate is not the delivered app.cdx.json"):
        verify(dist, keys)


def test_a_sigstore_bundle_about_another_component_fails(dist: Path, keys: Keys) -> None:
    statement = cyclonedx_statement("app.wasm", sha(b"another build"), (dist / "app.cdx.json").read_bytes())
    (dist / "app.sbom.sigstore.json").write_bytes(sign_statement_bundle(statement, keys.functionary.signer))
    with pytest.raises(ProvenanceSubjectError, match=r"artifact 'app.sbom.sigstore.json'.*attests another build"):
        verify(dist, keys)


def test_a_root_layout_other_than_the_verified_one_is_refused(tmp_path: Path, dist: Path, keys: Keys) -> None:
    """Verified against a layout kept elsewhere (release mode), the bundle must not ship another one."""
    committed = tmp_path / "committed.root.layout"
    shutil.copy(dist / "root.layout", committed)
    assert verify(dist, keys, layout_path=committed)
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout, "readme", "another layout"))
    with pytest.raises(FinalProductError, match=r"root.layout \(it is another layout than the one verified"):
        verify(dist, keys, layout_path=committed)
