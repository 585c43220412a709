"""`[wasm-oci]`: the OCI registries `pants publish` pushes components to, configured like Pants' docker backend."""

from __future__ import annotations

from typing import Any

from pants.option.option_types import DictOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap


class WasmOciSubsystem(Subsystem):
    options_scope = "wasm-oci"
    help = softwrap(
        """
        Where `pants publish` pushes `wasm_component` targets: each component as a Wasm OCI
        artifact with its signed SBOM, SLSA provenance and in-toto evidence as referrers.
        Credentials are never configured here: they come from the Docker config
        (`docker login` / `oras login`, `$DOCKER_CONFIG`, credential helpers).
        """
    )

    registries = DictOption[Any](
        help=softwrap(
            """
            Registry aliases, as `[docker].registries` takes them:
            `{"alias": {"address": "registry.example.com:5000", "default": true, "insecure": false}}`.
            A target publishes to the registries its `registries` field names (`@alias` or an
            address), by default to every registry with `default = true`. `insecure = true` talks
            plain HTTP: only for a registry on 127.0.0.1 in tests.
            """
        ),
        fromfile=True,
    )
    default_repository = StrOption(
        default="{name}",
        help=softwrap(
            """
            The repository a target is pushed to when it sets no `repository`; `{name}` is the
            target's name, `{directory}` the name of its folder.
            """
        ),
    )
