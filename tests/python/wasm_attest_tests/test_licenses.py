import pytest

from wasm_attest.licenses import spdx_expression


@pytest.mark.parametrize(
    "cargo_license, expected",
    [
        # Cargo's deprecated `/` means OR.
        ("MIT/Apache-2.0", "MIT OR Apache-2.0"),
        ("Apache-2.0 / MIT", "Apache-2.0 OR MIT"),
        ("Apache-2.0/ISC/MIT", "Apache-2.0 OR ISC OR MIT"),
        # Valid expressions stay as they are.
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        ("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT", "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"),
        ("(MIT OR Apache-2.0) AND Unicode-DFS-2016", "(MIT OR Apache-2.0) AND Unicode-DFS-2016"),
        # Case and deprecated identifiers are normalised to the SPDX list's spelling.
        ("mit or apache-2.0", "MIT OR Apache-2.0"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("  MIT  ", "MIT"),
    ],
)
def test_cargo_licenses_become_spdx_expressions(cargo_license: str, expected: str) -> None:
    assert spdx_expression(cargo_license) == expected


@pytest.mark.parametrize(
    "cargo_license",
    [
        "",
        "Foo-License",
        "See LICENSE file",
        "MIT,Apache-2.0",
        "MIT Apache-2.0",
        # These crash license-expression's own validate(); parse() must not.
        "MIT OR",
        "MIT/",
        "MIT\x00",
        "((",
        "LLVM-exception",
        "MIT WITH Apache-2.0",
    ],
)
def test_text_that_is_no_spdx_expression_gives_none_and_never_raises(cargo_license: str) -> None:
    assert spdx_expression(cargo_license) is None
