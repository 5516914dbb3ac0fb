"""code_reference() against real git checkouts in temporary directories."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pedigree.capture import code
from pedigree.capture._watch import available as watch_available
from pedigree.capture.code import DIFF_OPTIONS, code_reference

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
    reason="needs git",
)


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer config, a fixed identity, and no cache carried between tests."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    code.clear_cache()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def sha256_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_repo(root: Path, *, commit: bool = True) -> Path:
    repo = root / "repo"
    (repo / "pkg").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text("print('train')\n")
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "__main__.py").write_text(PRINT_CODE_REF)
    (repo / "pkg" / "mod.py").write_text(PRINT_CODE_REF)
    (repo / "data.txt").write_text("alpha\nbeta\n")
    if commit:
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "first")
    return repo.resolve()


def backdate(repo: Path) -> None:
    """Make every file look old, so a later edit always changes its mtime."""
    for path in repo.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    git(repo, "update-index", "-q", "--refresh")  # else git's next diff rewrites the index


PRINT_CODE_REF = (
    "from pedigree.capture.code import code_reference\nprint(code_reference().model_dump_json())\n"
)


def diff_digest(repo: Path) -> str:
    """The documented form, computed here independently of the module's caching."""
    out = subprocess.run(
        ["git", "diff", "HEAD", *DIFF_OPTIONS], cwd=repo, capture_output=True, check=True
    ).stdout
    return sha256_of(out)


def test_clean_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ref = code_reference(repo / "train.py")
    assert ref.repository == str(repo)  # no remote: the top-level path
    assert ref.commit == git(repo, "rev-parse", "HEAD")
    assert ref.branch == "main"
    assert ref.dirty is False
    assert ref.diff_digest is None
    assert ref.entry_point == "train.py"
    assert ref.entry_point_digest == sha256_of((repo / "train.py").read_bytes())


def test_entry_point_in_a_subdirectory_is_relative_to_the_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ref = code_reference(repo / "pkg" / "mod.py")
    assert ref.entry_point == "pkg/mod.py"
    assert ref.commit == git(repo, "rev-parse", "HEAD")


def test_dirty_flag_and_diff_digest_follow_the_diff(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    data = repo / "data.txt"
    assert code_reference(repo / "train.py").dirty is False

    data.write_text("alpha\ngamma\n")
    first = code_reference(repo / "train.py")
    assert first.dirty is True
    assert first.diff_digest == diff_digest(repo)

    data.write_text("alpha\ndelta\n")
    second = code_reference(repo / "train.py")
    assert second.dirty is True
    assert second.diff_digest == diff_digest(repo)
    assert second.diff_digest != first.diff_digest

    git(repo, "add", "data.txt")  # staged changes are uncommitted too
    staged = code_reference(repo / "train.py")
    assert staged.dirty is True
    assert staged.diff_digest == second.diff_digest

    git(repo, "checkout", "-q", "HEAD", "--", "data.txt")
    clean = code_reference(repo / "train.py")
    assert (clean.dirty, clean.diff_digest) == (False, None)


def test_untracked_files_do_not_make_a_checkout_dirty(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "out.parquet").write_bytes(b"\x00" * 100)
    ref = code_reference(repo / "train.py")
    assert (ref.dirty, ref.diff_digest) == (False, None)


def test_the_snapshot_is_reused_and_invalidated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the racy window off, an unchanged checkout is answered without git (git
    removed from PATH still gives the full answer); an edit is noticed without it."""
    monkeypatch.setattr(code, "RACY_WINDOW_NS", 0)
    repo = make_repo(tmp_path)
    backdate(repo)
    before = code_reference(repo / "train.py")
    assert before.dirty is False

    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert code_reference(repo / "train.py") == before  # from the cache

    (repo / "data.txt").write_text("alpha\nbetA\n")  # same size, new mtime
    after = code_reference(repo / "train.py")
    assert after.commit is None and after.dirty is None  # re-asked git, which is gone
    monkeypatch.undo()
    monkeypatch.setattr(code, "RACY_WINDOW_NS", 0)
    assert code_reference(repo / "train.py").dirty is True


def test_a_new_commit_is_noticed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code, "RACY_WINDOW_NS", 0)
    repo = make_repo(tmp_path)
    backdate(repo)
    first = code_reference(repo / "train.py").commit
    (repo / "data.txt").write_text("changed\n")
    git(repo, "commit", "-q", "-am", "second")
    ref = code_reference(repo / "train.py")
    assert ref.commit == git(repo, "rev-parse", "HEAD") != first
    assert ref.dirty is False


def test_detached_head_has_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    git(repo, "checkout", "-q", "--detach")
    ref = code_reference(repo / "train.py")
    assert ref.branch is None
    assert ref.commit == git(repo, "rev-parse", "HEAD")
    assert ref.dirty is False


def test_a_repository_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, commit=False)
    ref = code_reference(repo / "train.py")
    assert ref.repository == str(repo)
    assert (ref.commit, ref.branch, ref.dirty, ref.diff_digest) == (None, "main", None, None)


def test_outside_a_repository_the_git_fields_are_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "loose.py"
    script.write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    ref = code_reference(script)
    assert (ref.repository, ref.commit, ref.branch, ref.dirty, ref.diff_digest) == (None,) * 5
    assert ref.entry_point == str(script.resolve())
    assert ref.entry_point_digest == sha256_of(b"x = 1\n")
    bare = run_python(tmp_path, "-c", PRINT_CODE_REF)  # no entry point, no checkout
    assert set(bare.values()) == {None}


def test_without_git_nothing_breaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    ref = code_reference(repo / "train.py")
    assert (ref.repository, ref.commit, ref.dirty) == (None, None, None)
    assert ref.entry_point_digest == sha256_of((repo / "train.py").read_bytes())


@pytest.mark.parametrize(
    ("url", "recorded"),
    [
        (
            "https://alice:s3cret@git.example.com/org/repo.git",
            "https://git.example.com/org/repo.git",
        ),
        ("https://ghp_abcdefabcdefabcdefabcdef1234@github.com/o/r", "https://github.com/o/r"),
        ("ssh://git@git.example.com:2222/org/repo.git", "ssh://git.example.com:2222/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
    ],
)
def test_remote_url_credentials_are_stripped(tmp_path: Path, url: str, recorded: str) -> None:
    repo = make_repo(tmp_path)
    git(repo, "remote", "add", "origin", url)
    assert code_reference(repo / "train.py").repository == recorded


def test_an_entry_point_that_is_not_a_file_is_recorded_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    monkeypatch.chdir(repo)
    ref = code_reference("analysis.ipynb")
    assert (ref.entry_point, ref.entry_point_digest) == ("analysis.ipynb", None)
    assert ref.repository == str(repo)  # from the cwd


# --- the entry point of real processes -----------------------------------------------------


def run_python(repo: Path, *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, *args], cwd=repo, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_script_is_its_own_entry_point(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    script = repo / "pkg" / "mod.py"
    ref = run_python(repo, str(script))
    assert ref["entry_point"] == "pkg/mod.py"
    assert ref["entry_point_digest"] == sha256_of(script.read_bytes())
    assert ref["commit"] == git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(("module", "file"), [("pkg", "__main__.py"), ("pkg.mod", "mod.py")])
def test_python_dash_m_records_the_module_name(tmp_path: Path, module: str, file: str) -> None:
    repo = make_repo(tmp_path)
    ref = run_python(repo, "-m", module)
    assert ref["entry_point"] == module
    assert ref["entry_point_digest"] == sha256_of((repo / "pkg" / file).read_bytes())
    assert ref["branch"] == "main"


def test_python_dash_c_has_no_entry_point(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ref = run_python(repo, "-c", PRINT_CODE_REF)
    assert (ref["entry_point"], ref["entry_point_digest"]) == (None, None)
    assert ref["repository"] == str(repo)  # the cwd's checkout


@pytest.mark.skipif(not watch_available(), reason="inotify is Linux-only")
def test_the_inotify_watch_answers_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files just written (younger than the racy window) are still answered from the
    cache, because the watch saw nothing happen since; untracked outputs are ignored;
    an edit to a tracked file, or a commit, is seen."""
    repo = make_repo(tmp_path)
    git(repo, "update-index", "-q", "--refresh")
    code_reference(repo / "train.py")
    before = code_reference(repo / "train.py")  # settled (git may have refreshed the index)
    assert before.dirty is False

    real_path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    (repo / "out.parquet").write_bytes(b"rows")  # untracked, beside tracked files
    (repo / "pkg" / "notes.txt").write_text("scratch")
    assert code_reference(repo / "train.py") == before

    (repo / "data.txt").write_text("edited\n")
    assert code_reference(repo / "train.py").dirty is None  # re-asked git, which is gone

    monkeypatch.setenv("PATH", real_path)
    assert code_reference(repo / "train.py").dirty is True
    git(repo, "commit", "-q", "-am", "second")
    after = code_reference(repo / "train.py")
    assert (after.commit, after.dirty) == (git(repo, "rev-parse", "HEAD"), False)


def test_a_forked_child_does_not_use_the_parents_watch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    code_reference(repo / "train.py")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: edit, then answer from a fresh look
        try:
            (repo / "data.txt").write_text("child edit\n")
            os.write(write, b"1" if code_reference(repo / "train.py").dirty else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert code_reference(repo / "train.py").dirty is True  # the parent saw it too


def test_a_relative_entry_point_does_not_depend_on_a_later_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path)
    monkeypatch.chdir(repo)
    first = code_reference("train.py")
    monkeypatch.chdir(repo / "pkg")
    again = code_reference(repo / "train.py")
    assert first == again
    assert (again.entry_point, again.repository) == ("train.py", str(repo))
