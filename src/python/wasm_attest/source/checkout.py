"""The checkout a build read its sources from: its commit, whether the build's files differ from it, and its URIs.

A provenance that names a commit promises that building that commit gives
these bytes. That is only true when every file the build read is the
commit's: an edited, staged, untracked or git-ignored source file, or a
deleted tracked one, makes the build something the commit does not contain.
So a checkout whose read files differ is *modified*: its provenance names the
commit only as a base (`annotations.baseCommit`), with `modified: true`, the
first modified paths and their count, and the SHA-256 of the exact files the
build read as the digest; the component's `revision` section says
`<commit>-modified`. A clean build and a modified one are never
indistinguishable.

URIs (SLSA ResourceDescriptor `uri` must be an absolute URI):

- a checkout whose remote is a network URL: `git+<remote>@<commit>` for the
  sources and `git+<remote>@<commit>#<path>` for a file in it (the
  `git+URL@REF#SUBPATH` form of SLSA's and SPDX's examples); a modified
  checkout drops `@<commit>`, since no commit holds those bytes. Credentials,
  query and fragment are removed from the remote; `user@host:path` becomes
  `ssh://host/path`;
- otherwise (no git, no remote, or a remote that is a path on the builder's
  machine, which nobody else can fetch): `wasm-attest-repo:<path>`, a path
  relative to the root of the repository the build ran in, whose location the
  build does not know. The digest, not the URI, identifies the content then.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Collection, Mapping
from urllib.parse import quote, urlsplit

from wasm_attest.errors import WasmAttestError

REPOSITORY_PATH_SCHEME = "wasm-attest-repo"
"""The URI scheme of a path in a repository whose location the build does not know."""

SHOWN_PATHS = 5
"""How many modified paths messages and provenance list before giving only a count."""

_NETWORK_SCHEMES = frozenset({"https", "http", "ssh", "git"})
_SCP_LIKE = re.compile(r"(?:[^@/:]+@)?(?P<host>[^/:]+):(?P<path>[^/].*)")
_URI_PATH_SAFE = "/-._~!$&'()*+,;=:@"


class DirtyTreeError(WasmAttestError):
    """The build must come from a clean checkout, and the files it reads differ from the commit."""


@dataclass(frozen=True)
class Checkout:
    """What the build knows of the repository it ran in.

    `commit` is None outside git; `remote` is None without a network remote;
    `modified` are the repository paths the build read (or deleted tracked files
    beside them) that differ from `commit`, sorted.
    """

    commit: str | None
    remote: str | None
    modified: tuple[str, ...] = ()

    @property
    def is_modified(self) -> bool:
        return bool(self.modified)

    def revision(self) -> str | None:
        """The component's `revision` metadata: the commit, marked when the files built are not the commit's."""
        if self.commit is None:
            return None
        return f"{self.commit}-modified" if self.modified else self.commit

    def uri(self, path: str) -> str:
        """The absolute URI of `path` (relative to the repository root; "" or "." for the whole checkout)."""
        path = "" if path in ("", ".") else path.strip("/")
        if self.remote is None:
            return f"{REPOSITORY_PATH_SCHEME}:{quote(path or '.', safe=_URI_PATH_SAFE)}"
        at_commit = f"@{self.commit}" if self.commit and not self.modified else ""
        subpath = f"#{quote(path, safe=_URI_PATH_SAFE)}" if path else ""
        return f"git+{self.remote}{at_commit}{subpath}"

    def source_annotations(self) -> dict[str, object]:
        """What the provenance's source entry adds when the files built are not the commit's."""
        if not self.modified:
            return {}
        return {
            "baseCommit": self.commit,
            "modified": True,
            "modifiedCount": len(self.modified),
            "modifiedPaths": list(self.modified[:SHOWN_PATHS]),
        }

    def require_clean(self, target: str, reason: str) -> None:
        """Refuses a modified checkout, naming the first modified paths and their count."""
        if self.modified:
            raise DirtyTreeError(
                f"{target}: {reason}, but {len(self.modified)} file(s) the build reads differ from commit "
                f"{self.commit}: {shown_paths(self.modified)}. Commit or stash them (and add untracked files to git), "
                "then build again."
            )


def shown_paths(paths: tuple[str, ...]) -> str:
    """The first `SHOWN_PATHS` paths, and how many more there are: messages stay one readable line."""
    shown = ", ".join(paths[:SHOWN_PATHS])
    return shown if len(paths) <= SHOWN_PATHS else f"{shown} and {len(paths) - SHOWN_PATHS} more"


def sources_sha256(sources: Mapping[str, str]) -> str:
    """One SHA-256 of the files a build read (path -> sha256): of their sorted `sha256sum` lines.

    Anyone can recompute it from the build link's materials, or with
    `sha256sum` over a checkout.
    """
    listing = "".join(f"{digest}  {path}\n" for path, digest in sorted(sources.items()))
    return hashlib.sha256(listing.encode()).hexdigest()


def network_remote(url: str) -> str | None:
    """`url` as a repository location anyone could fetch from, without credentials; None for a local path."""
    scp = _SCP_LIKE.fullmatch(url) if "://" not in url else None
    if scp:
        return f"ssh://{scp['host']}/{scp['path']}"
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in _NETWORK_SCHEMES or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme.lower()}://{netloc}{quote(parts.path, safe=_URI_PATH_SAFE + '%')}"


def preferred_remote(remotes: Mapping[str, str]) -> str | None:
    """The network URL of `origin`, else of the first remote by name that has one."""
    ordered = sorted(remotes.items(), key=lambda item: (item[0] != "origin", item[0]))
    return next(filter(None, (network_remote(url) for _, url in ordered)), None)


def _folders_holding(read_paths: Collection[str]) -> tuple[str, ...]:
    """The outermost folders holding a file the build read (a folder inside another is covered by it).

    A tracked file deleted from one of them is a file a build of the commit
    would have seen; a file at the repository root stands for itself only.
    """
    folders = {path.rsplit("/", 1)[0] for path in read_paths if "/" in path}
    return tuple(sorted(folder for folder in folders if not any(folder.startswith(f"{other}/") for other in folders)))


def modified_paths(porcelain: bytes, read_paths: Collection[str]) -> tuple[str, ...]:
    """The paths the repository's `git status --porcelain=v1 -z` reports that make the build differ from the commit.

    A file the build read that is changed, staged, added, untracked (`??`) or
    ignored (`!!`); a read file inside a folder reported as untracked or ignored;
    and a tracked file deleted or renamed away from a folder holding a read file
    (a build of the commit would have had it). Every other entry (an edited file
    the build did not read, a deletion elsewhere) does not change the build, so
    one status of the whole repository serves every component.
    """
    read = set(read_paths)
    folders = _folders_holding(read)

    def beside_the_sources(path: str) -> bool:
        return any(path.startswith(f"{folder}/") for folder in folders)

    modified: set[str] = set()
    entries = porcelain.decode("utf-8", "surrogateescape").split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            original = entries[index] if index < len(entries) else ""
            index += 1  # the source path of a rename or copy follows the new path
            if "R" in status and beside_the_sources(original):
                modified.add(original)  # renamed away: the commit has it, the build did not
        if path.endswith("/"):
            modified.update(name for name in read if name.startswith(path))
        elif path in read or ("D" in status and beside_the_sources(path)):
            modified.add(path)
    return tuple(sorted(modified))
