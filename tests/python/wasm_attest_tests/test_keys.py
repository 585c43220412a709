from __future__ import annotations

import os
import re
import stat
import traceback
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from in_toto.models._signer import load_public_key_from_file
from securesystemslib.signer import SSlibKey

from wasm_attest.keys import (
    KeyLoadError,
    as_sslib_key,
    default_development_keys_folder,
    development_keys,
    key_dict,
    load_public_key,
    load_signing_key,
    public_key_from_pem,
    public_key_pem,
)

PASSWORD = "correct horse battery staple 7Qx!"
ENV_VAR = "WASM_ATTEST_TEST_KEY_PASSWORD"


def write_private_key(path: Path, private_key, password: str | None = None, fmt=PrivateFormat.PKCS8) -> bytes:
    encryption = BestAvailableEncryption(password.encode()) if password else NoEncryption()
    pem = private_key.private_bytes(Encoding.PEM, fmt, encryption)
    path.write_bytes(pem)
    return pem


def assert_nothing_secret(error: BaseException, pem: bytes, password: str | None = None) -> None:
    """No key material or password in the message, repr, exception chain, or this library's traceback frames."""
    body_lines = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    chunks = [line[i : i + 16] for line in body_lines for i in range(0, len(line) - 15, 16)]
    assert chunks
    texts = []
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), "".join(traceback.format_exception(type(seen), seen, seen.__traceback__))]
        seen = seen.__cause__ or seen.__context__
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith("wasm_attest/keys.py"):
            texts += [repr(value) for value in tb.tb_frame.f_locals.values()]
        tb = tb.tb_next
    for text in texts:
        assert "PRIVATE KEY" not in text
        assert not any(chunk in text for chunk in chunks), text
        if password:
            assert password not in text
            assert password.encode() not in text.encode()


def test_ed25519_key_signs_and_has_securesystemslib_keyid(tmp_path: Path) -> None:
    private_key = ed25519.Ed25519PrivateKey.generate()
    write_private_key(tmp_path / "key.pem", private_key)
    key = load_signing_key(tmp_path / "key.pem")
    expected = SSlibKey.from_crypto(private_key.public_key())
    assert key.keyid == expected.keyid
    assert (key.public_key.keytype, key.public_key.scheme) == ("ed25519", "ed25519")
    signature = key.signer.sign(b"payload")
    expected.verify_signature(signature, b"payload")
    assert "signer=" not in repr(key) and "CryptoSigner" not in repr(key)


def test_encrypted_ecdsa_p256_key_with_the_right_password(tmp_path: Path) -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    write_private_key(tmp_path / "key.pem", private_key, PASSWORD)
    key = load_signing_key(tmp_path / "key.pem", password_env_var=ENV_VAR, environ={ENV_VAR: PASSWORD})
    assert (key.public_key.keytype, key.public_key.scheme) == ("ecdsa", "ecdsa-sha2-nistp256")
    assert key.keyid == SSlibKey.from_crypto(private_key.public_key()).keyid
    key.public_key.verify_signature(key.signer.sign(b"data"), b"data")


def test_password_is_read_from_the_process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_private_key(tmp_path / "key.pem", ed25519.Ed25519PrivateKey.generate(), PASSWORD)
    monkeypatch.setenv(ENV_VAR, PASSWORD)
    assert load_signing_key(tmp_path / "key.pem", password_env_var=ENV_VAR).public_key.keytype == "ed25519"


@pytest.mark.parametrize("make_key", [ed25519.Ed25519PrivateKey.generate, lambda: ec.generate_private_key(ec.SECP256R1())])
def test_wrong_password_is_a_clear_error_without_secrets(tmp_path: Path, make_key) -> None:
    pem = write_private_key(tmp_path / "key.pem", make_key(), PASSWORD)
    wrong = "not-the-password-91"
    with pytest.raises(KeyLoadError, match=rf"could not be decrypted: the password in {ENV_VAR} is wrong") as caught:
        load_signing_key(tmp_path / "key.pem", password_env_var=ENV_VAR, environ={ENV_VAR: wrong})
    assert_nothing_secret(caught.value, pem, wrong)
    assert_nothing_secret(caught.value, pem, PASSWORD)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_unset_password_variable_is_named(tmp_path: Path) -> None:
    pem = write_private_key(tmp_path / "key.pem", ed25519.Ed25519PrivateKey.generate(), PASSWORD)
    with pytest.raises(KeyLoadError, match=rf"environment variable {ENV_VAR}, which is not set") as caught:
        load_signing_key(tmp_path / "key.pem", password_env_var=ENV_VAR, environ={})
    assert_nothing_secret(caught.value, pem, PASSWORD)


def test_encrypted_key_without_a_configured_variable(tmp_path: Path) -> None:
    pem = write_private_key(tmp_path / "key.pem", ed25519.Ed25519PrivateKey.generate(), PASSWORD)
    with pytest.raises(KeyLoadError, match="is encrypted; configure the NAME of the environment variable") as caught:
        load_signing_key(tmp_path / "key.pem", environ={ENV_VAR: PASSWORD})
    assert_nothing_secret(caught.value, pem, PASSWORD)


def test_password_configured_for_an_unencrypted_key(tmp_path: Path) -> None:
    pem = write_private_key(tmp_path / "key.pem", ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(KeyLoadError, match=rf"is not encrypted, but a password environment variable \({ENV_VAR}\)") as caught:
        load_signing_key(tmp_path / "key.pem", password_env_var=ENV_VAR, environ={ENV_VAR: PASSWORD})
    assert_nothing_secret(caught.value, pem, PASSWORD)


@pytest.mark.parametrize(
    "make_key, kind",
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "an RSA key"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "an ECDSA key on curve secp384r1"),
    ],
)
def test_unsupported_key_types_are_rejected(tmp_path: Path, make_key, kind: str) -> None:
    pem = write_private_key(tmp_path / "key.pem", make_key())
    with pytest.raises(KeyLoadError, match=rf"holds {kind}; wasm-attest signs with Ed25519 or ECDSA P-256 keys only") as caught:
        load_signing_key(tmp_path / "key.pem")
    assert_nothing_secret(caught.value, pem)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match=r"private key file .*nope\.pem does not exist; check the configured path"):
        load_signing_key(tmp_path / "nope.pem")


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError, match="is a folder, not a regular file"):
        load_signing_key(tmp_path)


def test_a_link_to_a_device_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A key path linked to /dev/zero used to be read until memory ran out."""
    (tmp_path / "owner.pem").symlink_to("/dev/zero")
    with pytest.raises(KeyLoadError, match=r"owner\.pem is a character device, not a regular file"):
        load_signing_key(tmp_path / "owner.pem")
    with pytest.raises(KeyLoadError, match=r"owner\.pem is a character device, not a regular file"):
        load_public_key(tmp_path / "owner.pem")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "owner.pub")
    with pytest.raises(KeyLoadError, match=r"owner\.pub is a FIFO, not a regular file"):
        load_public_key(tmp_path / "owner.pub")


def test_an_oversized_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "owner.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * (64 * 1024))
    with pytest.raises(KeyLoadError, match=r"owner\.pem is larger than the 64 KiB wasm-attest reads"):
        load_signing_key(tmp_path / "owner.pem")


def test_a_link_to_a_key_file_is_followed(tmp_path: Path) -> None:
    """Secrets are often mounted as links (Kubernetes volumes); a link to a regular file is fine."""
    write_private_key(tmp_path / "real.pem", ed25519.Ed25519PrivateKey.generate())
    (tmp_path / "owner.pem").symlink_to(tmp_path / "real.pem")
    assert load_signing_key(tmp_path / "owner.pem").keyid == load_signing_key(tmp_path / "real.pem").keyid


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_key_file(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private_key(path, ed25519.Ed25519PrivateKey.generate())
    path.chmod(0)
    with pytest.raises(KeyLoadError, match="cannot be read"):
        load_signing_key(path)


def test_not_a_pem_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("hello, I am not a key\n")
    with pytest.raises(KeyLoadError, match="is not a PKCS#8 PEM private key"):
        load_signing_key(tmp_path / "key.pem")


def test_corrupted_pkcs8_body(tmp_path: Path) -> None:
    pem = write_private_key(tmp_path / "key.pem", ed25519.Ed25519PrivateKey.generate())
    lines = pem.decode().splitlines()
    (tmp_path / "key.pem").write_text("\n".join([lines[0], lines[1][::-1], *lines[2:]]) + "\n")
    with pytest.raises(KeyLoadError, match="is not a valid PKCS#8 PEM private key") as caught:
        load_signing_key(tmp_path / "key.pem")
    assert_nothing_secret(caught.value, pem)


def test_traditional_openssl_format_is_refused_with_the_conversion_command(tmp_path: Path) -> None:
    pem = write_private_key(tmp_path / "key.pem", ec.generate_private_key(ec.SECP256R1()), fmt=PrivateFormat.TraditionalOpenSSL)
    with pytest.raises(KeyLoadError, match=r"is PEM but not PKCS#8; convert it with `openssl pkcs8 -topk8") as caught:
        load_signing_key(tmp_path / "key.pem")
    assert_nothing_secret(caught.value, pem)


@pytest.mark.parametrize("make_key", [ed25519.Ed25519PrivateKey.generate, lambda: ec.generate_private_key(ec.SECP256R1())])
def test_public_keys_round_trip_and_match_in_totos_keyids(tmp_path: Path, make_key) -> None:
    private_key = make_key()
    write_private_key(tmp_path / "key.pem", private_key)
    signing_key = load_signing_key(tmp_path / "key.pem")
    (tmp_path / "key.pub").write_bytes(public_key_pem(signing_key.public_key))
    assert load_public_key(tmp_path / "key.pub").keyid == signing_key.keyid
    assert load_public_key_from_file(str(tmp_path / "key.pub"))["keyid"] == signing_key.keyid
    assert public_key_pem(signing_key.public_key) == private_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    as_dict = key_dict(signing_key.public_key)
    assert as_dict["keyid"] == signing_key.keyid
    assert as_sslib_key(as_dict) == signing_key.public_key


def test_unsupported_public_keys_are_rejected() -> None:
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyLoadError, match="owner.pub is an RSA key; wasm-attest accepts Ed25519 or ECDSA P-256"):
        public_key_from_pem(rsa_pem, origin="owner.pub")


def test_a_private_key_is_not_accepted_as_public_key(tmp_path: Path) -> None:
    pem = write_private_key(tmp_path / "owner.pem", ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(KeyLoadError, match="is not a PEM public key") as caught:
        load_public_key(tmp_path / "owner.pem")
    assert_nothing_secret(caught.value, pem)


def test_development_keys_are_generated_once_with_private_modes(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "wasm-attest" / "dev-keys"
    first = development_keys(folder)
    assert first.created
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("owner.pem", "functionary.pem"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
        assert (folder / name).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert sorted(path.name for path in folder.iterdir()) == ["functionary.pem", "owner.pem"]
    assert first.owner.keyid != first.functionary.keyid
    second = development_keys(folder)
    assert not second.created
    assert (second.owner.keyid, second.functionary.keyid) == (first.owner.keyid, first.functionary.keyid)
    assert "development keys" in second.warning and str(folder) in second.warning


def test_development_keys_readable_by_others_are_refused(tmp_path: Path) -> None:
    development_keys(tmp_path / "keys")
    (tmp_path / "keys" / "owner.pem").chmod(0o644)
    with pytest.raises(KeyLoadError, match=r"can be read by other users \(mode 644\); run `chmod 600"):
        development_keys(tmp_path / "keys")


def test_a_development_keys_folder_that_is_a_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "dev-keys").write_text("not a folder\n")
    with pytest.raises(KeyLoadError, match=r"dev-keys is a file, not a folder"):
        development_keys(tmp_path / "dev-keys")


def test_default_development_keys_folder_is_user_level() -> None:
    assert default_development_keys_folder({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/wasm-attest/dev-keys")
    assert default_development_keys_folder({}) == Path.home() / ".config" / "wasm-attest" / "dev-keys"
    assert re.search(r"wasm-attest/dev-keys$", str(default_development_keys_folder()))
