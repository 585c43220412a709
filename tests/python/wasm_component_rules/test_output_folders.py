"""The rules for a wasm_component's folder under dist/, and the replacement that touches nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasm_component.dist_folder import DistFolderError, checked_folder, remove_folder, replace_folder
from wasm_component.output_folders import output_folder_clashes, output_path_problem

OWNER = "app:app (`output_path`)"


@pytest.mark.parametrize("value", ["hello", "a/b/c", "testprojects.hello/hello", "a/b/"])
def test_relative_folders_inside_dist_are_accepted(value: str) -> None:
    assert output_path_problem(value) is None


@pytest.mark.parametrize(
    "value, problem",
    [
        ("", "names `dist/` itself"),
        (".", "names `dist/` itself"),
        ("./", "names `dist/` itself"),
        ("../../x", "has a `..` component"),
        ("a/../../x", "has a `..` component"),
        ("a/..", "has a `..` component"),
        ("/tmp/x", "is absolute"),
        ("a//b", "is not normalised; write it as 'a/b'"),
        ("./a", "is not normalised; write it as 'a'"),
        ("a\\..\\b", "backslash"),
    ],
)
def test_folders_that_are_not_the_targets_own_are_refused(value: str, problem: str) -> None:
    assert problem in (output_path_problem(value) or "")


def test_a_folder_may_neither_equal_contain_nor_lie_inside_another_targets() -> None:
    folders = {"a:a": "x/a", "b:b": "x/a", "c:c": "x", "d:d": "x/a/d", "e:e": "x/ab", "f:f": "y"}
    assert output_folder_clashes("a:a", folders) == ("b:b", "c:c", "d:d")
    assert output_folder_clashes("c:c", folders) == ("a:a", "b:b", "d:d", "e:e")
    assert output_folder_clashes("e:e", folders) == ("c:c",)
    assert output_folder_clashes("f:f", folders) == ()


def test_replacing_leaves_exactly_the_new_files_and_no_temporary_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "app" / "app").mkdir(parents=True)
    (dist / "app" / "app" / "old.link").write_text("signed by an old key")
    (dist / "app" / "other").mkdir()
    folder = replace_folder(dist, "app/app", [("app.wasm", b"\0asm"), ("sub/x.json", b"{}")], owner=OWNER)
    assert folder == dist / "app" / "app"
    assert sorted(str(path.relative_to(folder)) for path in folder.rglob("*")) == ["app.wasm", "sub", "sub/x.json"]
    assert sorted(os.listdir(dist / "app")) == ["app", "other"], "no temporary or trash folder is left behind"
    assert (folder / "app.wasm").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_previous_bundle(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "app").mkdir(parents=True)
    (dist / "app" / "app.wasm").write_bytes(b"previous")
    with pytest.raises(DistFolderError, match="not a plain relative path"):
        replace_folder(dist, "app", [("app.wasm", b"new"), ("../escape", b"")], owner=OWNER)
    assert os.listdir(dist) == ["app"] and (dist / "app" / "app.wasm").read_bytes() == b"previous"
    assert not (tmp_path / "escape").exists()


def test_removing_touches_only_the_targets_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "app" / "app").mkdir(parents=True)
    (dist / "app" / "sibling").mkdir()
    assert remove_folder(dist, "app/app", owner=OWNER)
    assert os.listdir(dist / "app") == ["sibling"]
    assert not remove_folder(dist, "app/app", owner=OWNER)


@pytest.mark.parametrize("link", ["app", "app/app"])
def test_a_link_out_of_dist_is_refused_and_what_it_points_at_is_untouched(tmp_path: Path, link: str) -> None:
    outside = tmp_path / "precious"
    (outside / "app").mkdir(parents=True)
    (outside / "app" / "keep").write_text("mine")
    (outside / "keep").write_text("mine")
    dist = tmp_path / "dist"
    (dist / link).parent.mkdir(parents=True, exist_ok=True)
    (dist / link).symlink_to(outside if link == "app" else outside / "app")
    for attempt in (
        lambda: replace_folder(dist, "app/app", [("app.wasm", b"")], owner=OWNER),
        lambda: remove_folder(dist, "app/app", owner=OWNER),
    ):
        with pytest.raises(DistFolderError, match=rf"app:app \(`output_path`\): .*/dist/{link} is a symbolic link"):
            attempt()
    assert (outside / "keep").read_text() == (outside / "app" / "keep").read_text() == "mine"
    assert sorted(os.listdir(outside)) == ["app", "keep"] and os.listdir(outside / "app") == ["keep"]


def test_dist_itself_may_be_a_link(tmp_path: Path) -> None:
    (tmp_path / "disk").mkdir()
    (tmp_path / "dist").symlink_to(tmp_path / "disk")
    replace_folder(tmp_path / "dist", "app", [("app.wasm", b"x")], owner=OWNER)
    assert (tmp_path / "disk" / "app" / "app.wasm").read_bytes() == b"x"


def test_paths_outside_dist_are_refused_even_if_the_field_check_was_bypassed(tmp_path: Path) -> None:
    with pytest.raises(DistFolderError, match="is not a folder inside"):
        checked_folder(tmp_path / "dist", "../x", owner=OWNER)
