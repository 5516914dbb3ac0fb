"""The code a run executed: its entry point and the state of the git checkout around it.

Running ``git`` costs milliseconds, more than an empty captured run may cost in total,
so the answers are cached per process:

* which repository a directory belongs to, and its ``origin`` remote: once per process;
* commit, branch, dirty flag and diff digest: re-checked on *every* call, cheaply. The
  last git answer is kept with a snapshot of what could change it (``HEAD``, the index,
  the branch ref, and ``lstat`` of every tracked file); git runs again only when the
  snapshot no longer matches, or when something changed less than
  :data:`RACY_WINDOW_NS` before it was taken (file timestamps are too coarse to trust
  then, the same "racy" problem git has with its own index).

Untracked files do not count: "dirty" means the tracked files differ from ``HEAD`` (as
``git diff HEAD`` sees them), otherwise every pipeline that writes its outputs inside
the repository would look dirty. See docs/capture.md for the digest forms.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pedigree.capture._redact import strip_url_credentials
from pedigree.capture._watch import Watch
from pedigree.capture._watch import available as watch_available
from pedigree.model import CodeRef

GIT_TIMEOUT = 5.0
"""Seconds any one quick ``git`` call may take before the git fields are left empty."""

DIFF_TIMEOUT = 30.0
"""Seconds ``git diff HEAD`` may take (it reads every changed file)."""

RACY_WINDOW_NS = 2_000_000_000
"""A snapshot is not reused while anything in it is younger than this (2 s)."""

DIFF_OPTIONS = (
    "--binary",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-renames",
    "--no-relative",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--unified=3",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    f"-O{os.devnull}",
)
"""Fixed options, so the diff bytes (and their digest) do not depend on anyone's git config."""

_GITLINK = b"160000"


@dataclass
class _Repo:
    """What is fixed for a checkout while the process runs."""

    top: Path
    git_dir: Path
    common_dir: Path
    repository: str


@dataclass
class _State:
    """The last git answer for one checkout, and what it is known to be valid for."""

    meta: tuple[object, ...] | None = None
    files: list[bytes] = field(default_factory=list)
    file_key: list[object] | None = None
    trusted: bool = False  # git answered and the snapshot covers all that could change it
    racy: bool = True  # something in the snapshot was too young for its stat to be trusted
    watch: Watch | None = None
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_digest: str | None = None

    def forget_watch(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None


_lock = threading.Lock()
_repos: dict[str, _Repo | None] = {}
_states: dict[Path, _State] = {}
_digests: dict[str, tuple[tuple[int, int, int], str | None]] = {}
_labels: dict[tuple[str, str | None], str] = {}


def code_reference(entry_point: str | Path | None = None, *, refresh: bool = False) -> CodeRef:
    """The entry point of this process (or ``entry_point``) and its git checkout.

    Never raises for a missing git, a directory that is not a checkout, or an
    unreadable file: what cannot be found is left ``None``. ``refresh=True`` forgets
    everything cached first.
    """
    if refresh:
        clear_cache()
    label, path = _entry(entry_point)
    repo, state, digest = None, _State(), None
    with _lock:
        try:
            start = str(path.parent) if path is not None else os.getcwd()
            repo = _repo_for(start)
            if repo is not None:
                state = _current_state(repo)
        except Exception:  # capture must never break the pipeline it records
            repo, state = None, _State()
        if path is not None:
            digest = _file_digest(path)
            if label is None:
                label = _label(path, repo)
    return CodeRef(
        repository=repo.repository if repo else None,
        commit=state.commit,
        branch=state.branch,
        dirty=state.dirty,
        diff_digest=state.diff_digest,
        entry_point=label,
        entry_point_digest=digest,
    )


def clear_cache() -> None:
    """Forget every cached repository, git state and entry-point digest."""
    with _lock:
        for state in _states.values():
            state.forget_watch()
        _repos.clear()
        _states.clear()
        _digests.clear()
        _labels.clear()


def _after_fork_in_child() -> None:
    """A child must not read the parent's inotify queue (it would steal its events), and
    must not wait on a lock another thread of the parent held at the fork."""
    global _lock
    _lock = threading.Lock()
    for state in _states.values():
        state.forget_watch()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# --- entry point ---------------------------------------------------------------------------


def _entry(entry_point: str | Path | None) -> tuple[str | None, Path | None]:
    """(label, file): label is set here only when it is not a file's path. Paths are
    made absolute here, so the caches below do not depend on the current directory."""
    if entry_point is not None:
        if isinstance(entry_point, Path) or os.path.isfile(entry_point):
            return None, Path(os.path.abspath(entry_point))
        return str(entry_point), None  # a module or notebook name, recorded as given
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    file = getattr(main, "__file__", None)
    name = getattr(spec, "name", None)
    if name and name != "__main__":  # python -m package.module
        return name.removesuffix(".__main__"), Path(os.path.abspath(file)) if file else None
    if file:
        return None, Path(os.path.abspath(file))
    argv0 = sys.argv[0] if sys.argv else ""
    # No __file__: interactive, -c, a notebook kernel. Only a real script path counts.
    if argv0 not in ("", "-c", "-m", "-") and "ipykernel" not in argv0 and os.path.isfile(argv0):
        return None, Path(os.path.abspath(argv0))
    return None, None


def _label(path: Path, repo: _Repo | None) -> str:
    """The path relative to the checkout (portable, with the commit it names the code),
    else the absolute path."""
    key = (str(path), str(repo.top) if repo else None)
    label = _labels.get(key)
    if label is None:
        resolved = path.resolve()
        label = str(resolved)
        if repo is not None and resolved.is_relative_to(repo.top):
            label = resolved.relative_to(repo.top).as_posix()
        _labels[key] = label
    return label


def _file_digest(path: Path) -> str | None:
    """``sha256:<hex>`` of the file's bytes; re-read only when its stat changes."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _digests.get(str(path))
    if cached is not None and cached[0] == key and not _young(st.st_mtime_ns, time.time_ns()):
        return cached[1]
    digest: str | None
    try:
        with open(path, "rb") as f:
            digest = "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        digest = None
    _digests[str(path)] = (key, digest)
    return digest


# --- git -----------------------------------------------------------------------------------


def _git(
    cwd: Path | str, *args: str, timeout: float = GIT_TIMEOUT
) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            env=_git_env(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def _repo_for(start: str) -> _Repo | None:
    if start in _repos:
        return _repos[start]
    repo = None
    found = _git(start, "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir")
    if found is not None and found.returncode == 0:
        lines = os.fsdecode(found.stdout).splitlines()
        if len(lines) == 3:
            top, git_dir = Path(lines[0]), Path(lines[1])
            common = Path(lines[2])
            common = common if common.is_absolute() else (Path(start) / common).resolve()
            remote = _git(top, "config", "--get", "remote.origin.url")
            url = os.fsdecode(remote.stdout).strip() if remote and remote.returncode == 0 else ""
            repository = strip_url_credentials(url) if url else str(top)
            repo = _Repo(top=top, git_dir=git_dir, common_dir=common, repository=repository)
    _repos[start] = repo
    return repo


def _current_state(repo: _Repo) -> _State:
    """The cached git answer if nothing it depends on changed, else a fresh one.

    First the inotify watch (one ``read``), then the ``lstat`` snapshot, then git.
    """
    state = _states.get(repo.top)
    if state is not None and state.trusted and state.watch is not None:
        if not state.watch.changed():
            return state
        if state.watch.lost:
            state.forget_watch()
    meta = _meta_key(repo)
    if (
        state is not None
        and state.trusted
        and not state.racy
        and state.meta == meta
        and _file_key(repo, state.files) == state.file_key
    ):
        return state
    files = state.files if state is not None and state.trusted and state.meta == meta else None
    if state is not None:
        state.forget_watch()
    state = _fresh_state(repo, meta, files)
    _states[repo.top] = state
    return state


def _meta_key(repo: _Repo) -> tuple[object, ...]:
    """HEAD's content and the stat of HEAD, the index, the branch ref and packed-refs."""
    try:
        head = (repo.git_dir / "HEAD").read_bytes()
    except OSError:
        head = b""
    paths = [repo.git_dir / "HEAD", repo.git_dir / "index", repo.common_dir / "packed-refs"]
    if head.startswith(b"ref:"):
        paths.append(repo.common_dir / os.fsdecode(head[4:].strip()))
    return (head, *(_stat(os.fsencode(p)) for p in paths))


def _stat(path: bytes) -> tuple[int, int, int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode)


def _file_key(repo: _Repo, files: list[bytes]) -> list[object]:
    return [_stat(path) for path in files]


def _young(mtime_ns: int, now_ns: int) -> bool:
    return mtime_ns > now_ns - RACY_WINDOW_NS


def _fresh_state(repo: _Repo, meta: tuple[object, ...], files: list[bytes] | None) -> _State:
    """Ask git. The watch and the snapshot are taken *before* git runs, so a change made
    while git is running shows up next time rather than being missed."""
    trusted = True
    if files is None:
        files, trusted = _tracked_files(repo)
    watch = _watch_for(repo, files) if trusted else None
    if watch is not None and _meta_key(repo) != meta:  # the index moved under us
        watch.close()
        watch, trusted = None, False
    now = time.time_ns()
    file_key = _file_key(repo, files)
    stamps = [s for s in (*meta[1:], *file_key) if isinstance(s, tuple)]
    racy = any(_young(s[0], now) or _young(s[1], now) for s in stamps)
    state = _State(
        meta=meta, files=files, file_key=file_key, trusted=trusted, racy=racy, watch=watch
    )

    head = _git(repo.top, "rev-parse", "HEAD", "--symbolic-full-name", "HEAD")
    if head is not None and head.returncode == 0:
        lines = os.fsdecode(head.stdout).split()
        state.commit = lines[0] if lines else None
        ref = lines[1] if len(lines) > 1 else ""
        state.branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
        state.dirty, state.diff_digest = _diff(repo.top)
    else:  # no commit yet (or git failed): the branch may still be named
        symbolic = _git(repo.top, "symbolic-ref", "-q", "--short", "HEAD")
        if symbolic is not None and symbolic.returncode == 0:
            state.branch = os.fsdecode(symbolic.stdout).strip() or None
        state.trusted = False
    if state.dirty is None:
        state.trusted = False
    if not state.trusted:
        state.forget_watch()
    return state


def _watch_for(repo: _Repo, files: list[bytes]) -> Watch | None:
    """An inotify watch on every directory holding a tracked file, and on the names in
    the git directories that move when HEAD, the index or the branch do."""
    if not watch_available():
        return None
    names: dict[bytes, set[bytes]] = {}
    for path in files:
        directory, name = os.path.split(path)
        names.setdefault(directory, set()).add(name)
    names.setdefault(os.fsencode(repo.git_dir), set()).update((b"HEAD", b"index"))
    names.setdefault(os.fsencode(repo.common_dir), set()).add(b"packed-refs")
    head = b""
    with contextlib.suppress(OSError):
        head = (repo.git_dir / "HEAD").read_bytes()
    if head.startswith(b"ref:"):
        directory, name = os.path.split(os.fsencode(repo.common_dir) + b"/" + head[4:].strip())
        if not os.path.isdir(directory):
            return None  # the branch is only packed, in a folder that does not exist yet
        names.setdefault(directory, set()).add(name)
    try:
        return Watch(names)
    except OSError:  # a limit reached, or no inotify: the lstat snapshot will do
        return None


def _tracked_files(repo: _Repo) -> tuple[list[bytes], bool]:
    """Absolute paths of the index's files; ``False`` if snapshots cannot be trusted
    (submodules change without touching any file of this checkout; git failed)."""
    listed = _git(repo.top, "ls-files", "-s", "-z")
    if listed is None or listed.returncode != 0:
        return [], False
    top = os.fsencode(repo.top)
    seen: dict[bytes, None] = {}
    trusted = True
    for entry in listed.stdout.split(b"\0"):
        meta, tab, rel = entry.partition(b"\t")
        if not tab:
            continue
        if meta.startswith(_GITLINK):
            trusted = False
        seen.setdefault(top + b"/" + rel, None)
    return list(seen), trusted


def _diff(top: Path) -> tuple[bool | None, str | None]:
    """(dirty, ``sha256:`` of ``git diff HEAD`` bytes or ``None`` when clean), streamed."""
    try:
        proc = subprocess.Popen(
            ["git", "diff", "HEAD", *DIFF_OPTIONS],
            cwd=top,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=_git_env(),
        )
    except OSError:
        return None, None
    timer = threading.Timer(DIFF_TIMEOUT, proc.kill)
    timer.start()
    digest = hashlib.sha256()
    size = 0
    try:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    if code != 0:  # failed or killed: dirty if anything came out, digest unknown
        return (True if size else None), None
    return (size > 0), ("sha256:" + digest.hexdigest() if size else None)
