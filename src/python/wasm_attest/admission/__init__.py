"""Admission: a Rego policy over what verification established about a bundle (who signed what, SBOM, provenance, findings)."""
