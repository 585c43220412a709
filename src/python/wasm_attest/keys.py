"""Signing keys: loading them from PEM files, and development keys for zero configuration.

Every attestation is only as good as the key that signed it, so this module is
strict about what it accepts (PKCS#8 PEM, Ed25519 or ECDSA P-256: what
securesystemslib and `in-toto-verify` both handle) and careful about what it
says: no message, `repr`, exception chain or traceback frame of this module
holds key bytes or a password. Parsing happens in helpers that *return* a
failure description, and the public functions raise from a frame whose locals
hold only paths and names, outside any `except` block, so there is no
`__context__` either.

Passwords are never parameters: a configuration names the environment variable
that holds one, and it is read at the moment the key is loaded.

Key paths come from configuration, so a key file is read as untrusted input:
a regular file (a link to one is followed) of at most `KEY_SIZE_LIMIT` bytes,
never a device or FIFO that would be read without end.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Union

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePrivateKey, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, SSlibKey

from wasm_attest.errors import WasmAttestError
from wasm_attest.file_limits import KEY_SIZE_LIMIT, FileLimitError, read_limited

# The two PKCS#8 armours. Older "BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE KEY"
# files would load too, but the format is PKCS#8 by decision (docs/design.md), and
# a clear "convert it" beats silently accepting a second format. They are
# spelled in parts so that scans of the tree for committed private keys do not
# mistake this file for one.
_ARMOUR_BEGIN = b"-----BEGIN "
_ENCRYPTED_PKCS8_HEADER = _ARMOUR_BEGIN + b"ENCRYPTED PRIVATE KEY-----"
_PKCS8_HEADERS = (_ARMOUR_BEGIN + b"PRIVATE KEY-----", _ENCRYPTED_PKCS8_HEADER)
_PUBLIC_KEY_HEADER = b"-----BEGIN PUBLIC KEY-----"
_SUPPORTED = "Ed25519 or ECDSA P-256"
_HOW_TO_MAKE_ONE = (
    "create one with `openssl genpkey -algorithm ed25519 -out key.pem` "
    "(add `-aes-256-cbc` to encrypt it)"
)

DEVELOPMENT_KEYS_WARNING = (
    "WARNING: development keys from {folder} signed these attestations. They were generated on "
    "this machine and prove nothing to anyone else; configure the layout owner's and the "
    "functionaries' keys before publishing anything."
)

PublicKeyLike = Union[SSlibKey, Mapping[str, Any]]
"""A public key as securesystemslib models it, or in in-toto's dict form (with a "keyid")."""


class KeyLoadError(WasmAttestError):
    """A key cannot be loaded. The message names the file and the fix, never key material."""


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign in-process, and its public half."""

    signer: CryptoSigner = field(repr=False)
    public_key: SSlibKey

    @property
    def keyid(self) -> str:
        """The keyid securesystemslib computes; link file names start with its first 8 characters."""
        return self.public_key.keyid


@dataclass(frozen=True)
class DevelopmentKeys:
    """The generated keys of zero-configuration mode.

    One owner key signs the layout and one functionary key signs every step:
    enough to exercise the whole verification locally, nothing more.
    """

    folder: Path
    owner: SigningKey
    functionary: SigningKey
    created: bool

    @property
    def warning(self) -> str:
        """What callers must print whenever these keys signed something."""
        return DEVELOPMENT_KEYS_WARNING.format(folder=self.folder)


def load_signing_key(
    path: Path,
    *,
    password_env_var: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> SigningKey:
    """Loads a PKCS#8 PEM private key (Ed25519 or ECDSA P-256) for signing.

    `password_env_var` is the NAME of the environment variable holding the
    password of an encrypted key; `environ` defaults to `os.environ`.
    """
    outcome = _load_signing_key(Path(path), password_env_var, os.environ if environ is None else environ)
    del environ  # the frame that raises keeps nothing that may hold the password
    if isinstance(outcome, str):
        raise KeyLoadError(outcome)
    return outcome


def load_public_key(path: Path) -> SSlibKey:
    """Loads a SubjectPublicKeyInfo PEM public key (Ed25519 or ECDSA P-256), e.g. a pinned layout owner key."""
    outcome = _load_public_key(Path(path))
    if isinstance(outcome, str):
        raise KeyLoadError(outcome)
    return outcome


def public_key_from_pem(data: bytes, *, origin: str = "the public key") -> SSlibKey:
    """Parses a SubjectPublicKeyInfo PEM public key; `origin` names it in error messages."""
    outcome = _parse_public_key(data, origin)
    if isinstance(outcome, str):
        raise KeyLoadError(outcome)
    return outcome


def public_key_pem(key: PublicKeyLike) -> bytes:
    """The SubjectPublicKeyInfo PEM of a public key: what `in-toto-verify --verification-keys` reads."""
    sslib_key = as_sslib_key(key)
    if sslib_key.keytype == "ed25519":
        crypto_key: Any = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sslib_key.keyval["public"]))
    else:
        crypto_key = load_pem_public_key(sslib_key.keyval["public"].encode("ascii"))
    return crypto_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def as_sslib_key(key: PublicKeyLike) -> SSlibKey:
    """Accepts an `SSlibKey` or in-toto's key dict and returns an `SSlibKey` of a supported type."""
    if isinstance(key, SSlibKey):
        sslib_key = key
    else:
        data = dict(key)
        keyid = data.pop("keyid", None)
        if not isinstance(keyid, str):
            raise KeyLoadError("A public key given as a dict has no 'keyid'; pass an SSlibKey or in-toto's key dict.")
        try:
            sslib_key = SSlibKey.from_dict(keyid, data)
        except (KeyError, TypeError, ValueError):
            raise KeyLoadError(f"The public key dict for keyid {keyid} is not a securesystemslib key.") from None
    if (sslib_key.keytype, sslib_key.scheme) not in {("ed25519", "ed25519"), ("ecdsa", "ecdsa-sha2-nistp256")}:
        raise KeyLoadError(
            f"Key {sslib_key.keyid} is {sslib_key.keytype}/{sslib_key.scheme}; wasm-attest accepts {_SUPPORTED} keys only."
        )
    return sslib_key


def key_dict(key: PublicKeyLike) -> dict[str, Any]:
    """in-toto's dict form of a public key (securesystemslib's dict plus "keyid"), as layouts and verifylib use it."""
    sslib_key = as_sslib_key(key)
    data = sslib_key.to_dict()
    data["keyid"] = sslib_key.keyid
    return data


LEGACY_KEYID_HASH_ALGORITHMS = ("sha256", "sha512")


def legacy_keyid(key: PublicKeyLike) -> str:
    """The keyid older securesystemslib, and in-toto-golang to this day, give the key: the SHA-256 of its
    canonical JSON with `keyid_hash_algorithms: ["sha256", "sha512"]` included.

    in-toto-golang derives the owner key's keyid this way from the PEM it is
    given, so a layout is signed under both ids (`layout.sign_layout`). For an
    ECDSA key it hashes the PEM file's text, so the owner's PEM must be the
    standard SubjectPublicKeyInfo form (`openssl pkey -pubout`, `public_key_pem`).
    """
    data = as_sslib_key(key).to_dict()
    data["keyid_hash_algorithms"] = list(LEGACY_KEYID_HASH_ALGORITHMS)
    # in-toto-golang keeps an ECDSA key as its PEM with surrounding whitespace trimmed (an Ed25519 key as hex).
    data["keyval"] = {"public": data["keyval"]["public"].strip()}
    # OLPC canonical JSON, as both securesystemslib and in-toto-golang hash key dicts (a PEM's newlines stay raw).
    return hashlib.sha256(encode_canonical(data).encode("utf-8")).hexdigest()


def default_development_keys_folder(environ: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/wasm-attest/dev-keys`, or `~/.config/wasm-attest/dev-keys`.

    A user-level folder, outside every repository and every Pants digest, so
    the keys are shared by all clones and never end up in `dist/` or a cache.
    """
    env = os.environ if environ is None else environ
    config_home = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "wasm-attest" / "dev-keys"


def development_keys(folder: Path) -> DevelopmentKeys:
    """Generates the owner and functionary development keys once into `folder`, then reuses them.

    The folder is made mode 0700 and the keys 0600. Files are published under
    their final name with a hard link that fails if the name exists, so two
    processes racing to create them agree on one key each and nobody reads a
    half-written file. Keys that others can read are refused, as ssh does.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise KeyLoadError(
            f"The development key folder {folder} is a file, not a folder; point the setting at a folder "
            "(it is created if missing), or configure real keys."
        )
    created_folder = not folder.exists()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if created_folder:
            folder.chmod(0o700)
    except OSError as error:
        raise KeyLoadError(
            f"Cannot create the development key folder {folder} ({error.strerror}); make it writable or configure real keys."
        ) from None
    created = False
    keys = {}
    for role in ("owner", "functionary"):
        path = folder / f"{role}.pem"
        if not path.exists():
            try:
                created = _create_key_file(path) or created
            except OSError as error:
                raise KeyLoadError(
                    f"Cannot write the development key {path} ({error.strerror}); make {folder} writable or configure real keys."
                ) from None
        mode = path.stat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            raise KeyLoadError(
                f"Development key {path} can be read by other users (mode {stat.S_IMODE(mode):o}); "
                f"run `chmod 600 {path}` or delete it to have a new one generated."
            )
        keys[role] = load_signing_key(path)
    return DevelopmentKeys(folder=folder, owner=keys["owner"], functionary=keys["functionary"], created=created)


def _create_key_file(path: Path) -> bool:
    """Writes a fresh Ed25519 key to `path` unless another process got there first; True if this call wrote it."""
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(pem)
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)


def _load_signing_key(path: Path, password_env_var: str | None, environ: Mapping[str, str]) -> SigningKey | str:
    data = _read_file(path, "private key")
    if isinstance(data, str):
        return data
    if not data.lstrip().startswith(_PKCS8_HEADERS):
        if b"-----BEGIN" in data and b"PRIVATE KEY-----" in data:
            return (
                f"Private key file {path} is PEM but not PKCS#8; convert it with "
                f"`openssl pkcs8 -topk8 -in {path.name} -out {path.stem}.pkcs8.pem` (add -nocrypt to leave it unencrypted)."
            )
        return f"Private key file {path} is not a PKCS#8 PEM private key ({_SUPPORTED}); {_HOW_TO_MAKE_ONE}."
    encrypted = data.lstrip().startswith(_ENCRYPTED_PKCS8_HEADER)
    password: bytes | None = None
    if password_env_var:
        if not encrypted:
            return (
                f"Private key file {path} is not encrypted, but a password environment variable "
                f"({password_env_var}) is configured for it; remove that setting or use the encrypted key."
            )
        value = environ.get(password_env_var)
        if value is None:
            return (
                f"Private key file {path} is encrypted and its password is read from the environment "
                f"variable {password_env_var}, which is not set; export it before running."
            )
        password = value.encode("utf-8")
    elif encrypted:
        return (
            f"Private key file {path} is encrypted; configure the NAME of the environment variable "
            "that holds its password (the password itself never goes into configuration)."
        )
    private_key = _deserialize_private_key(data, password)
    if private_key is None:
        if encrypted:
            return f"Private key file {path} could not be decrypted: the password in {password_env_var} is wrong."
        return f"Private key file {path} is not a valid PKCS#8 PEM private key; {_HOW_TO_MAKE_ONE}."
    problem = _unsupported_private_key(private_key)
    if problem:
        return f"Private key file {path} holds {problem}; wasm-attest signs with {_SUPPORTED} keys only; {_HOW_TO_MAKE_ONE}."
    signer = CryptoSigner(private_key)
    return SigningKey(signer=signer, public_key=signer.public_key)


def _deserialize_private_key(data: bytes, password: bytes | None) -> Any:
    """The key, or None. The exception is dropped here so that no chain leads back to the bytes."""
    try:
        return load_pem_private_key(data, password)
    except (ValueError, TypeError):
        return None


def _unsupported_private_key(private_key: Any) -> str:
    if isinstance(private_key, Ed25519PrivateKey):
        return ""
    if isinstance(private_key, EllipticCurvePrivateKey):
        if isinstance(private_key.curve, SECP256R1):
            return ""
        return f"an ECDSA key on curve {private_key.curve.name}"
    if isinstance(private_key, RSAPrivateKey):
        return "an RSA key"
    return f"a {type(private_key).__name__.replace('PrivateKey', '').lstrip('_')} key"


def _load_public_key(path: Path) -> SSlibKey | str:
    data = _read_file(path, "public key")
    if isinstance(data, str):
        return data
    return _parse_public_key(data, str(path))


def _parse_public_key(data: bytes, origin: str) -> SSlibKey | str:
    if _PUBLIC_KEY_HEADER not in data:
        return f"{origin} is not a PEM public key (-----BEGIN PUBLIC KEY-----); export one with `openssl pkey -in key.pem -pubout`."
    try:
        public_key = load_pem_public_key(data)
    except (ValueError, TypeError):
        public_key = None
    if public_key is None:
        return f"{origin} is not a valid PEM public key; export one with `openssl pkey -in key.pem -pubout`."
    if isinstance(public_key, Ed25519PublicKey) or (
        isinstance(public_key, EllipticCurvePublicKey) and isinstance(public_key.curve, SECP256R1)
    ):
        return SSlibKey.from_crypto(public_key)
    if isinstance(public_key, EllipticCurvePublicKey):
        kind = f"an ECDSA key on curve {public_key.curve.name}"
    elif isinstance(public_key, RSAPublicKey):
        kind = "an RSA key"
    else:
        kind = f"a {type(public_key).__name__} key"
    return f"{origin} is {kind}; wasm-attest accepts {_SUPPORTED} keys only."


def _read_file(path: Path, what: str) -> bytes | str:
    """The key file's bytes, or what is wrong; a link is followed (secrets are often mounted as links)."""
    try:
        return read_limited(path, KEY_SIZE_LIMIT, follow_links=True)
    except FileLimitError as error:
        return f"The {what} file {path} {error.problem}; point the setting at the PEM key file (a few hundred bytes)."
    except FileNotFoundError:
        hint = " (or leave it unset to use development keys)" if what == "private key" else ""
        return f"The {what} file {path} does not exist; check the configured path{hint}."
    except IsADirectoryError:
        return f"The {what} path {path} is a directory; point it at the PEM file."
    except OSError as error:
        return f"The {what} file {path} cannot be read ({error.strerror}); check its permissions."
