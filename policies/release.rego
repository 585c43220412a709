# The release admission policy: what must hold before a verified wasm component ships.
#
#   ./pants verify-layout --verify-layout-policy=policies/release.rego ::
#   wasm-attest verify dist/<target> --owner-key owner.pub --policy policies/release.rego
#
# Evaluated (by regopy, Microsoft's rego-cpp) over the document wasm-attest builds from a
# bundle it has just verified: `input.component`, `input.sbom`, `input.provenance`,
# `input.isolation`, `input.findings`, `input.signers`, `input.layout` (README: "Admission
# policies"). Each `deny` message fails verification. Copy this file and edit
# `expected_builder` to name your CI's SLSA builder id ([wasm-attest].builder_id).
package wasm_attest.admission

import rego.v1

expected_builder := "https://wasm-attest.dev/builders/pants"

# Critical advisories the release owner has accepted. Exceptions in the build's
# [wasm-advisories] are the builder's decision; this set is the release owner's.
accepted_critical := set()

# A signed SBOM: present, and the `sbom` step's link (which records its digest) signed by a functionary.
deny contains "no SBOM in the bundle" if object.get(input, "sbom", null) == null

deny contains "the SBOM step's link is signed by no authorised functionary" if {
	count(object.get(input.signers, "sbom", [])) == 0
}

# Signed provenance from the expected builder.
deny contains "no signed SLSA provenance in the bundle" if {
	object.get(input, "provenance", null) == null
}

deny contains "no signed SLSA provenance in the bundle" if {
	count(object.get(input.signers, "provenance", [])) == 0
}

deny contains msg if {
	builder := input.provenance.predicate.runDetails.builder.id
	builder != expected_builder
	msg := sprintf("the provenance names builder \"%s\", not the expected \"%s\"", [builder, expected_builder])
}

# An isolated build.
deny contains "the provenance does not record an isolated build" if {
	object.get(input, "isolation", null) == null
}

deny contains "the provenance records a build without isolation" if {
	input.isolation.mechanism == "none"
}

# A vulnerability scan happened: signed findings, or the verifier's own database.
deny contains "no vulnerability findings: the bundle has no signed findings and no advisory database was given" if {
	object.get(input.findings, "attested", null) == null
	object.get(input.findings, "reevaluated", null) == null
}

# No critical vulnerability, linked or host-only, by the verifier's database or by the signed
# findings, unless accepted above.
deny contains msg if {
	some finding in input.findings.reevaluated.findings
	finding.severity == "critical"
	not accepted_critical[finding.id]
	msg := sprintf("critical vulnerability %s in %s %s (%s)", [finding.id, finding.crate, finding.version, finding.scope])
}

deny contains msg if {
	some result in input.findings.attested.predicate.scanner.result
	some severity in result.severity
	severity.method == "severity"
	severity.score == "critical"
	not accepted_critical[result.id]
	some annotation in result.annotations
	msg := sprintf("critical vulnerability %s in %s %s (%s), in the signed findings", [result.id, annotation.crate, annotation.version, annotation.scope])
}
