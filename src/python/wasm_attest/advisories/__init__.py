"""Known-vulnerable crates: an offline RustSec advisory database, the gate that judges an SBOM against it, and the signed findings."""
