"""Sigstore bundles: the attestation format current cosign and sigstore clients verify."""
