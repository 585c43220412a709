"""Which files make a checkout modified, asked of a real git repository as the plugin asks it, and the URIs and
revision a checkout gives provenance and the component."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from wasm_attest.component_pipeline import lockfile_descriptor, source_descriptor
from wasm_attest.source.checkout import (
    Checkout,
    DirtyTreeError,
    modified_paths,
    network_remote,
    preferred_remote,
    sources_sha256,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"
GIT = shutil.which("git")
READ = ("app/Cargo.toml", "app/Cargo.lock", "app/src/main.rs", "app/src/util.rs", "lib/src/lib.rs")


def git(repository: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repository), *args],
        check=True,
        capture_output=True,
    ).stdout


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A committed repository holding the files `READ` lists, a README beside them and a .gitignore."""
    assert GIT, "these tests run the real git, as the plugin does: install git"
    for path in (*READ, "app/README.md", "app/src/notes.txt", "elsewhere/file.txt"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(f"{path}\n")
    (tmp_path / ".gitignore").write_text("*.generated.rs\nignored-dir/\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "initial")
    return tmp_path


def status(repository: Path, read: tuple[str, ...]) -> tuple[str, ...]:
    """What the plugin computes: one `git status` of the whole repository, filtered by `modified_paths`."""
    output = git(
        repository, "--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching"
    )
    return modified_paths(output, read)


def test_a_clean_checkout_has_no_modified_path(repository: Path) -> None:
    assert status(repository, READ) == ()


def test_changes_to_files_the_build_read_make_it_modified(repository: Path) -> None:
    (repository / "app/src/main.rs").write_text("changed\n")  # edited, not staged
    (repository / "app/Cargo.lock").write_text("staged\n")
    git(repository, "add", "app/Cargo.lock")
    (repository / "app/src/new.rs").write_text("untracked\n")
    (repository / "app/src/made.generated.rs").write_text("ignored by git\n")
    (repository / "app/ignored-dir").mkdir()
    (repository / "app/ignored-dir/data.rs").write_text("in an ignored folder\n")
    read = (*READ, "app/src/new.rs", "app/src/made.generated.rs", "app/ignored-dir/data.rs")
    assert status(repository, read) == (
        "app/Cargo.lock",
        "app/ignored-dir/data.rs",
        "app/src/made.generated.rs",
        "app/src/main.rs",
        "app/src/new.rs",
    )


def test_a_deleted_or_renamed_tracked_file_beside_the_sources_makes_it_modified(repository: Path) -> None:
    (repository / "app/src/util.rs").unlink()  # a build of the commit would have had it
    git(repository, "mv", "lib/src/lib.rs", "lib/src/renamed.rs")
    read = tuple(path for path in READ if path not in ("app/src/util.rs", "lib/src/lib.rs")) + ("lib/src/renamed.rs",)
    assert status(repository, read) == ("app/src/util.rs", "lib/src/lib.rs", "lib/src/renamed.rs")


def test_changes_the_build_did_not_read_leave_it_clean(repository: Path) -> None:
    (repository / "app/README.md").write_text("edited documentation\n")
    (repository / "app/src/notes.txt").write_text("edited, not a source\n")
    (repository / "elsewhere/file.txt").unlink()
    (repository / "elsewhere/untracked.rs").write_text("\n")
    assert status(repository, READ) == ()


def test_only_deletions_and_renames_beside_the_sources_count(repository: Path) -> None:
    """The status covers the whole repository: only what happens beside the build's sources counts."""
    git(repository, "mv", "elsewhere/file.txt", "moved.txt")  # renamed away, but not from beside the sources
    (repository / "app/src/notes.txt").unlink()  # beside the sources: a build of the commit had it
    assert status(repository, READ) == ("app/src/notes.txt",)


SOURCES = {"src/main.rs": "a" * 64, "Cargo.toml": "b" * 64}


def test_a_modified_build_is_never_indistinguishable_from_a_clean_one() -> None:
    remote = "https://example.org/org/repo.git"
    clean, modified = Checkout(COMMIT, remote), Checkout(COMMIT, remote, ("app/src/main.rs",))
    assert clean.revision() == COMMIT and modified.revision() == f"{COMMIT}-modified"
    assert source_descriptor(clean, "app", SOURCES).to_dict() == {
        "uri": f"git+{remote}@{COMMIT}#app",
        "digest": {"gitCommit": COMMIT},
        "name": "source",
    }
    assert source_descriptor(modified, "app", SOURCES).to_dict() == {
        "uri": f"git+{remote}#app",
        "digest": {"sha256": sources_sha256(SOURCES)},
        "name": "source",
        "annotations": {"baseCommit": COMMIT, "modified": True, "modifiedCount": 1, "modifiedPaths": ["app/src/main.rs"]},
    }
    assert lockfile_descriptor(modified, "app/Cargo.lock", "c" * 64).uri == f"git+{remote}#app/Cargo.lock"


def test_without_a_network_remote_uris_are_repository_paths() -> None:
    checkout = Checkout(COMMIT, None)
    assert checkout.uri("testprojects/hello") == "wasm-attest-repo:testprojects/hello"
    assert checkout.uri("") == "wasm-attest-repo:."
    assert checkout.uri("a dir/Cargo.lock") == "wasm-attest-repo:a%20dir/Cargo.lock"
    assert lockfile_descriptor(checkout, "testprojects/hello/Cargo.lock", "c" * 64).to_dict()["uri"] == (
        "wasm-attest-repo:testprojects/hello/Cargo.lock"
    )
    outside_git = source_descriptor(Checkout(None, None), "testprojects/hello", SOURCES).to_dict()
    assert outside_git == {"uri": "wasm-attest-repo:testprojects/hello", "digest": {"sha256": sources_sha256(SOURCES)}, "name": "source"}


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://example.org/org/repo.git", "https://example.org/org/repo.git"),
        ("https://x-access-token:s3cret@Example.org:8443/org/repo?token=s3cret#frag", "https://example.org:8443/org/repo"),
        ("git@github.com:org/repo.git", "ssh://github.com/org/repo.git"),
        ("ssh://git:pw@host/repo", "ssh://host/repo"),
        ("/srv/git/repo.git", None),
        ("file:///srv/git/repo.git", None),
        ("../sibling", None),
    ],
)
def test_remotes_lose_credentials_and_local_paths_are_not_locations(url: str, expected: str | None) -> None:
    assert network_remote(url) == expected


def test_origin_is_preferred_over_other_remotes() -> None:
    assert preferred_remote({"backup": "https://b.example/r", "origin": "https://o.example/r"}) == "https://o.example/r"
    assert preferred_remote({"local": "/srv/r", "mirror": "https://m.example/r"}) == "https://m.example/r"
    assert preferred_remote({}) is None


def test_refusing_a_modified_checkout_names_the_first_paths_and_the_count() -> None:
    Checkout(COMMIT, None).require_clean("app:app", "release mode")
    paths = tuple(f"src/file{number:02}.rs" for number in range(12))
    with pytest.raises(DirtyTreeError) as error:
        Checkout(COMMIT, None, paths).require_clean("app:app", "[wasm-attest].require_clean_tree is set")
    message = str(error.value)
    assert message.startswith("app:app: [wasm-attest].require_clean_tree is set, but 12 file(s)")
    assert "src/file04.rs and 7 more" in message and "src/file05.rs" not in message and COMMIT in message
