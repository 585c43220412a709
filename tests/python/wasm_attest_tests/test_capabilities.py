"""The capability policy: interface names and patterns, the policy line of a layout, and verification enforcing
the policy the owner signed, on real components (testdata/components)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# A sibling helper module that pytest imports by name; Pants cannot infer it, so BUILD names it.
from wasm_attest_tests.bundles import Keys, build_bundle, make_keys, rewrite_layout
from in_toto.models.metadata import Metadata

from wasm_attest.capabilities.interface import ComponentInterface
from wasm_attest.capabilities.policy import (
    README_MARKER,
    CapabilityPolicy,
    CapabilityPolicyFormatError,
    matches,
    policy_from_readme,
)
from wasm_attest.component_pipeline import interface_byproduct
from wasm_attest.keys import public_key_pem
from wasm_attest.verification import CapabilityPolicyError, LayoutFormatError, LayoutSignatureError, verify_attestations

COMPONENTS = Path(__file__).parent / "testdata" / "components"
PHONE_HOME = (COMPONENTS / "http-hello-phone-home.wasm").read_bytes()
HELLO = (COMPONENTS / "hello.wasm").read_bytes()
STD_IMPORTS = ("wasi:cli/*", "wasi:io/*", "wasi:clocks/*", "wasi:filesystem/*", "wasi:random/*")
HTTP_POLICY = CapabilityPolicy(
    allowed_imports=(*STD_IMPORTS, "wasi:http/types"), required_exports=("wasi:http/incoming-handler",)
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


def verify(dist: Path, keys: Keys):
    return verify_attestations(dist, trusted_owner_keys=[keys.owner.public_key])


# --- names and patterns ------------------------------------------------------------


@pytest.mark.parametrize(
    "name, pattern, expected",
    [
        ("wasi:http/types@0.2.4", "wasi:http/*", True),
        ("wasi:http/types@0.2.4", "wasi:http/types", True),
        ("wasi:http/types@0.2.4", "wasi:http/types@0.2.*", True),
        ("wasi:http/types@0.2.4", "wasi:http/types@0.3.*", False),
        ("wasi:http/outgoing-handler@0.2.4", "wasi:http/types", False),
        ("wasi:sockets/tcp@0.2.6", "wasi:cli/*", False),
        ("wasi:cli/stdout@0.2.6", "WASI:cli/*", False),
    ],
)
def test_patterns_match_interface_names_with_or_without_the_version(name: str, pattern: str, expected: bool) -> None:
    assert matches(name, pattern) is expected


def test_the_interface_of_a_real_component_is_read_from_its_bytes() -> None:
    interface = ComponentInterface.of_component(PHONE_HOME)
    assert interface.exports == ("wasi:http/incoming-handler@0.2.4",)
    assert "wasi:http/types@0.2.4" in interface.imports
    assert {"wasi:sockets/tcp@0.2.6", "wasi:sockets/tcp-create-socket@0.2.6"} <= set(interface.imports)
    byproduct = interface_byproduct(interface)
    assert byproduct["annotations"] == interface.to_dict() and byproduct["digest"]["sha256"] == interface.sha256()


def test_a_new_sockets_import_and_a_missing_export_are_each_named() -> None:
    violations = HTTP_POLICY.violations(ComponentInterface.of_component(PHONE_HOME))
    assert set(violations.unexpected_imports) == {
        "wasi:sockets/network@0.2.6",
        "wasi:sockets/tcp@0.2.6",
        "wasi:sockets/tcp-create-socket@0.2.6",
    }
    assert violations.missing_exports == ()
    command = HTTP_POLICY.violations(ComponentInterface.of_component(HELLO))
    assert command.missing_exports == ("wasi:http/incoming-handler",)
    assert "  exports nothing matching the required wasi:http/incoming-handler" in command.lines()


def test_an_empty_allow_list_allows_nothing() -> None:
    assert CapabilityPolicy((), ()).violations(ComponentInterface.of_component(HELLO)).unexpected_imports


# --- the policy line of a layout -------------------------------------------------


def test_the_policy_survives_a_readme_round_trip() -> None:
    readme = f"How app.wasm must be built: vendor, build. {HTTP_POLICY.readme_line()}"
    assert policy_from_readme(readme) == HTTP_POLICY
    assert policy_from_readme("How app.wasm must be built.") is None


@pytest.mark.parametrize(
    "line, problem",
    [
        (README_MARKER + "{not json", "not JSON"),
        (README_MARKER + json.dumps({"allowedImports": ["*"]}), "exactly allowedImports and requiredExports"),
        (README_MARKER + json.dumps({"allowedImports": "*", "requiredExports": []}), "allowedImports is not a list"),
        (README_MARKER + json.dumps({"allowedImports": ["wasi:cli/* x"], "requiredExports": []}), "is not a pattern"),
        (f"{README_MARKER}{json.dumps(HTTP_POLICY.to_dict())} {README_MARKER}{json.dumps(HTTP_POLICY.to_dict())}", "2 capability policies"),
        (README_MARKER + json.dumps(HTTP_POLICY.to_dict()) + " and more", "goes on after the capability policy"),
    ],
)
def test_a_malformed_policy_is_refused(line: str, problem: str) -> None:
    with pytest.raises(CapabilityPolicyFormatError, match=problem):
        policy_from_readme(line, origin="root.layout")


# --- verification enforces the owner's policy ----------------------------------------


def test_a_component_within_the_signed_policy_verifies_and_the_report_says_so(tmp_path: Path, keys: Keys) -> None:
    policy = CapabilityPolicy(allowed_imports=(*HTTP_POLICY.allowed_imports, "wasi:sockets/*"), required_exports=HTTP_POLICY.required_exports)
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=policy)
    report = verify(dist, keys)
    assert any("keeps to the signed capability policy" in check for check in report.checks_for("package"))


def test_a_component_that_gained_a_sockets_import_fails_verification_naming_each_import(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=HTTP_POLICY)
    with pytest.raises(CapabilityPolicyError) as caught:
        verify(dist, keys)
    message = str(caught.value)
    assert caught.value.step == "package" and caught.value.artifact == "app.wasm"
    for name in ("wasi:sockets/network@0.2.6", "wasi:sockets/tcp@0.2.6", "wasi:sockets/tcp-create-socket@0.2.6"):
        assert f"imports {name}: no allowed-imports pattern matches it" in message
    assert "wasi:http/types" in message  # the policy is quoted


def test_a_missing_required_export_fails_verification(tmp_path: Path, keys: Keys) -> None:
    policy = CapabilityPolicy(allowed_imports=("*",), required_exports=("wasi:http/incoming-handler",))
    dist = build_bundle(tmp_path, keys, component=HELLO, policy=policy)
    with pytest.raises(CapabilityPolicyError, match="exports nothing matching the required wasi:http/incoming-handler"):
        verify(dist, keys)


def _loosen(layout: object) -> None:
    """What a builder who wants the socket would do: allow every import in the layout's policy line."""
    prose = layout.readme.split(README_MARKER)[0]
    layout.readme = prose + CapabilityPolicy(("*",), ()).readme_line()


def test_a_policy_loosened_and_re_signed_by_a_non_owner_fails_the_layout_signature(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=HTTP_POLICY)
    rewrite_layout(dist, keys.functionary, _loosen)
    with pytest.raises(LayoutSignatureError):
        verify(dist, keys)


def test_a_policy_loosened_in_place_breaks_the_owners_signature(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=HTTP_POLICY)
    envelope = json.loads((dist / "root.layout").read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["readme"] = CapabilityPolicy(("*",), ()).readme_line()
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    (dist / "root.layout").write_text(json.dumps(envelope))
    with pytest.raises(LayoutSignatureError):
        verify(dist, keys)


def test_the_owner_re_signing_a_looser_policy_is_what_lets_the_component_through(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=HTTP_POLICY)
    rewrite_layout(dist, keys.owner, _loosen)
    verify(dist, keys)


def test_a_malformed_policy_in_a_signed_layout_is_a_layout_error(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=HTTP_POLICY)
    rewrite_layout(dist, keys.owner, lambda layout: setattr(layout, "readme", README_MARKER + "[]"))
    with pytest.raises(LayoutFormatError, match="capability policy"):
        verify(dist, keys)


def test_the_reference_verifier_accepts_a_layout_carrying_a_policy(tmp_path: Path, keys: Keys) -> None:
    dist = build_bundle(tmp_path, keys, component=PHONE_HOME, policy=HTTP_POLICY)
    owner_pub = tmp_path / "owner.pub"
    owner_pub.write_bytes(public_key_pem(keys.owner.public_key))
    script = Path(sys.executable).with_name("in-toto-verify")
    command = [str(script)] if script.is_file() else [shutil.which("in-toto-verify") or "in-toto-verify"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    result = subprocess.run(
        [*command, "--layout", "root.layout", "--verification-keys", str(owner_pub), "--link-dir", "."],
        cwd=dist, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert policy_from_readme(Metadata.load(str(dist / "root.layout")).get_payload().readme) == HTTP_POLICY


def test_a_layout_with_a_policy_reads_back_from_the_form_the_owner_reviews(keys: Keys) -> None:
    """The unsigned layout `generate-layout` writes must read back exactly, policy included (no raw newline)."""
    from wasm_attest_tests.bundles import EXPIRES, FINAL_PRODUCTS, step_plans

    from wasm_attest.layout import derive_layout, load_unsigned_layout, unsigned_layout_json

    layout = derive_layout(
        step_plans(keys.functionary),
        final_products=FINAL_PRODUCTS,
        expires=EXPIRES,
        readme=f"How app.wasm must be built. {HTTP_POLICY.readme_line()}",
    )
    assert policy_from_readme(load_unsigned_layout(unsigned_layout_json(layout)).readme) == HTTP_POLICY
