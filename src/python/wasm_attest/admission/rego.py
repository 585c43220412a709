"""Admission policies in Rego, evaluated by a real Rego engine (regopy, Microsoft's rego-cpp).

A policy is a Rego module of `package wasm_attest.admission` defining `deny`,
a set of messages: the bundle is admitted when the set is empty, and each
message is reported as a verification failure. Built-in errors are strict: a
policy whose rule hits one fails to evaluate rather than admitting silently. Its input is
`input_document.admission_inputs`' document for one component.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from regopy import Interpreter
from regopy.rego_shared import RegoError

from wasm_attest.errors import WasmAttestError

POLICY_PACKAGE = "wasm_attest.admission"
DENY_QUERY = f"data.{POLICY_PACKAGE}.deny"


class AdmissionPolicyError(WasmAttestError):
    """The policy cannot be evaluated (a syntax error, no `deny` set, a non-string message)."""


def denials(policy: str, *, origin: str, document: Mapping[str, Any]) -> tuple[str, ...]:
    """The policy's `deny` messages for `document`, sorted; empty means admitted."""
    interpreter = Interpreter()
    # A built-in that fails (sprintf with a bad verb, to_number("x")) would otherwise make its rule
    # undefined, silently dropping a deny: fail closed instead.
    interpreter.strict_built_in_errors = True
    try:
        interpreter.add_module(origin, policy)
        interpreter.set_input_term(json.dumps(document))
        output = interpreter.query(DENY_QUERY)
    except RegoError as error:
        raise AdmissionPolicyError(f"the policy {origin} cannot be evaluated: {error}") from None
    if not output.ok():
        raise AdmissionPolicyError(f"the policy {origin} cannot be evaluated: {output}")
    text = str(output)
    if text == "undefined":
        raise AdmissionPolicyError(
            f"the policy {origin} defines no {DENY_QUERY}; write `package {POLICY_PACKAGE}` and a `deny` set of messages."
        )
    expressions = json.loads(text).get("expressions", [])
    messages = expressions[0] if expressions else []
    if not isinstance(messages, list) or not all(isinstance(message, str) for message in messages):
        raise AdmissionPolicyError(f"the policy {origin}'s deny is {messages!r}; it must be a set of strings.")
    return tuple(sorted(messages))
