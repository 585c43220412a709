"""Registry references: the accepted forms, and refusals that say which form to use."""

from __future__ import annotations

import pytest

from wasm_attest.oci.reference import Reference, ReferenceError, parse_reference
from wasm_attest.oci.registry import referrers_tag

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "text, expected",
    [
        ("oci://127.0.0.1:5000/hello:v1", Reference("127.0.0.1:5000", "hello", tag="v1")),
        ("oci://registry.example.com/team/hello", Reference("registry.example.com", "team/hello", tag="latest")),
        (f"oci://registry.example.com/team/hello@{DIGEST}", Reference("registry.example.com", "team/hello", digest=DIGEST)),
        ("registry.example.com:443/a-b/c_d:1.0.0", Reference("registry.example.com:443", "a-b/c_d", tag="1.0.0")),
    ],
)
def test_accepted_forms(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("oci://hello", "names no registry host and repository"),
        ("oci://r.example/Hello:v1", "is not a valid repository name"),
        ("oci://r.example/hello@sha256:abc", "is not a sha256 digest"),
        ("oci://r.example/hello:-bad", "is not a valid tag"),
        ("oci://user:pass@r.example/hello:v1", "names no registry host"),
    ],
)
def test_refusals_name_the_problem_and_the_forms(text: str, problem: str) -> None:
    with pytest.raises(ReferenceError) as raised:
        parse_reference(text)
    assert problem in str(raised.value) and "oci://HOST[:PORT]/REPOSITORY:TAG" in str(raised.value)


def test_the_referrers_tag_is_the_digest_with_a_dash() -> None:
    assert referrers_tag(DIGEST) == "sha256-" + "ab" * 32
