"""Who signs a component's attestations, and for how long its layout is valid."""

from __future__ import annotations

from pants.option.option_types import BoolOption, DictOption, IntOption, StrListOption, StrOption
from pants.option.subsystem import Subsystem
from pants.util.strutil import softwrap

from wasm_attest.errors import WasmAttestError

MIN_LAYOUT_EXPIRY_DAYS = 1
MAX_LAYOUT_EXPIRY_DAYS = 3650


class AttestationOptionError(WasmAttestError):
    """An `[wasm-attest]` option has a value outside its allowed range."""


class AttestationSubsystem(Subsystem):
    options_scope = "wasm-attest"
    help = softwrap(
        """
        Keys and policy for the attestations `pants package` writes next to each component
        (in-toto links, layout, SLSA provenance).

        Keys are PEM (PKCS#8) Ed25519 or ECDSA P-256 private keys, read at the moment of
        signing and never copied into Pants' cache or `dist/`. With no keys configured,
        development keys are generated once into `development_keys_dir` and every run says so:
        such output is for trying things out, not for release.
        """
    )

    owner_key = StrOption(
        default=None,
        help="The layout owner's private key (path, absolute or relative to the build root).",
    )
    owner_key_password_env = StrOption(
        default=None,
        help="The name of the environment variable holding the owner key's password, if it is encrypted.",
    )
    functionary_keys = DictOption[str](
        default={},
        help=softwrap(
            """
            Private keys of the functionaries, by step name (`vendor`, `dependencies`, `build`,
            `embed`, `sbom`, `package`); a step without a key here is signed with
            `default_functionary_key`. `dependencies` compiles a workspace's registry crates once
            for all its components, so its key signs what every build of the workspace links.
            """
        ),
    )
    default_functionary_key = StrOption(
        default=None,
        help="The private key that signs the links of steps not named in `functionary_keys`.",
    )
    functionary_key_password_env = StrOption(
        default=None,
        help="The name of the environment variable holding the functionary keys' password, if they are encrypted.",
    )
    development_keys_dir = StrOption(
        default=None,
        help=softwrap(
            """
            Where zero-configuration development keys are generated (folder mode 0700, files
            0600). Default: `$XDG_CONFIG_HOME/wasm-attest/dev-keys`, or
            `~/.config/wasm-attest/dev-keys`.
            """
        ),
        advanced=True,
    )
    trusted_owner_keys = StrListOption(
        default=[],
        help=softwrap(
            """
            Public keys (PEM) of the layout owner that `verify-layout` trusts, and that
            `package` verifies a committed `signed_layout` against (required then). The trust
            root comes from here (or `--verify-layout-owner-key`), never from the folder being
            verified. When empty, the public half of `owner_key` (or of the development owner
            key) is trusted.
            """
        ),
    )
    require_signed_layouts = BoolOption(
        default=False,
        help=softwrap(
            """
            Release mode for the whole repository: every `wasm_component` must name an
            owner-signed layout (`signed_layout`), so no build derives or signs its own policy.
            """
        ),
    )
    require_isolated_builds = BoolOption(
        default=True,
        help=softwrap(
            """
            Verification (`package`'s final check and `verify-layout`) fails a component whose
            signed provenance does not record an isolated build. Builds are isolated by default
            (`[wasm-sandbox].isolation`); turn this off only to accept development builds made
            with isolation turned off.
            """
        ),
    )
    default_allowed_imports = StrListOption(
        default=["*"],
        help=softwrap(
            """
            The capability policy's allowed imports for every `wasm_component` that does not set
            `allowed_imports`: patterns over WIT interface names such as `wasi:cli/*` or
            `wasi:http/types@0.2.*` (a pattern without `@` matches every version). A component
            importing anything no pattern matches fails to package; the policy is signed into its
            layout, so verification enforces it too. The default `*` allows everything.
            """
        ),
    )
    default_required_exports = StrListOption(
        default=[],
        help=softwrap(
            """
            The capability policy's required exports for every `wasm_component` that does not set
            `required_exports`: each pattern must match an interface the component exports, e.g.
            `wasi:http/incoming-handler`.
            """
        ),
    )
    require_clean_tree = BoolOption(
        default=False,
        help=softwrap(
            """
            Refuse to build a component when a file its build reads differs from the checked-out
            commit (edited, staged, untracked or git-ignored, or a tracked file deleted beside
            them). Release mode (`require_signed_layouts`, or a target's `signed_layout`) always
            refuses. Otherwise such a build records the commit only as a base, marked modified,
            with the SHA-256 of the files it read.
            """
        ),
    )
    _layout_expiry_days = IntOption(
        "--layout-expiry-days",
        default=365,
        help=softwrap(
            f"""
            How many days after signing the layout expires ({MIN_LAYOUT_EXPIRY_DAYS} to
            {MAX_LAYOUT_EXPIRY_DAYS}); verification fails after that. For `generate-layout`,
            counted from the moment it writes the layout.
            """
        ),
    )

    @property
    def layout_expiry_days(self) -> int:
        """The option, checked: a layout that expires at once (or before it is signed) could never verify."""
        days = self._layout_expiry_days
        if not MIN_LAYOUT_EXPIRY_DAYS <= days <= MAX_LAYOUT_EXPIRY_DAYS:
            raise AttestationOptionError(
                f"[wasm-attest].layout_expiry_days is {days}; set it to a whole number of days from "
                f"{MIN_LAYOUT_EXPIRY_DAYS} to {MAX_LAYOUT_EXPIRY_DAYS} (the layout expires that long after it is signed)."
            )
        return days

    builder_id = StrOption(
        default="https://wasm-attest.dev/builders/pants",
        help="The SLSA `builder.id` written into provenance: name the CI system that runs the build.",
        advanced=True,
    )
