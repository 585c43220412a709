"""Cargo `license` fields as SPDX license expressions.

An SBOM consumer matches licenses by SPDX expression, but crates write what
cargo accepts: the legacy `MIT/Apache-2.0` form, lower-case identifiers,
deprecated identifiers, or free text. Normalising here gives every SBOM the
same spelling for the same licence; text that is no valid expression is
reported as it is (as a licence name), because a crate's licence must never
make a build fail.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from license_expression import ExpressionError, Licensing, get_spdx_licensing

# Cargo documents `/` as the deprecated way to write OR between licences.
_LEGACY_OR = re.compile(r"\s*/\s*")
# The shared Licensing object builds its tokenizer lazily and is not safe to use from two threads at
# once (Pants runs rules in parallel threads: "'object' object has no attribute 'children'").
_PARSING = threading.Lock()


def spdx_expression(cargo_license: str) -> str | None:
    """The SPDX expression `cargo_license` stands for, or None when it is not a valid one.

    `MIT/Apache-2.0` becomes `MIT OR Apache-2.0`, `mit` becomes `MIT` and a
    deprecated identifier such as `GPL-2.0` becomes `GPL-2.0-only`.
    """
    return _normalised(_LEGACY_OR.sub(" OR ", cargo_license.strip()))


@lru_cache(maxsize=None)
def _normalised(expression: str) -> str | None:
    try:
        with _PARSING:
            parsed = _spdx_licensing().parse(expression, validate=True, strict=True)
    except ExpressionError:
        return None
    return None if parsed is None else str(parsed)


@lru_cache(maxsize=1)
def _spdx_licensing() -> Licensing:
    return get_spdx_licensing()
