"""Cost of the automatic context of a captured run: ``environment()`` + ``code_reference()``.

Every ``pedigree.run`` block records the environment (Python, OS, hardware, installed
packages and their digest, allow-listed variables) and the code (entry point digest,
git commit, branch, dirty flag, digest of the uncommitted diff). The expensive parts are
cached per process; the git state is re-validated on every call (an inotify watch on
Linux, else an ``lstat`` snapshot of the tracked files), and git runs again only when
something changed.

Measured on a temporary git checkout with ``--files`` tracked files (one of them
modified, so the checkout is dirty), after the files are older than the racy window:

* first call: the very first ``environment()`` + ``code_reference()`` of this process
  (package scan, ``/proc/cpuinfo``, ``nvidia-smi`` if present, git);
* uncached: the same with ``refresh=True`` (everything recomputed), median;
* cached: what every run after the first pays, median and p95; also without the inotify
  watch (what macOS and Windows pay: one ``lstat`` per tracked file);
* baseline: one ``git diff HEAD`` subprocess, what capturing the diff naively costs on
  every run. Ratios are cached / uncached and cached / baseline.

Goal: cached <= 0.5 ms, so that an empty captured run (context + one append of about
1 ms on SQLite) stays within 2 ms. Without the watch the cached cost grows with the
number of tracked files; ``--files`` shows by how much. ``--backend`` is ignored.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import _common as c
from pedigree.capture import code as code_mod
from pedigree.capture._watch import available as watch_available
from pedigree.capture.code import DIFF_OPTIONS, code_reference
from pedigree.capture.environment import environment

GOAL_CACHED_MS = 0.5
GIT_IDENTITY = ("-c", "user.name=bench", "-c", "user.email=bench@example.com")


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--files", type=int, default=300, help="tracked files in the checkout (default 300)"
    )
    parser.add_argument(
        "--calls", type=int, default=5_000, help="timed cached calls (default 5,000)"
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *GIT_IDENTITY, *args], cwd=repo, check=True, capture_output=True)


def make_checkout(root: Path, files: int) -> Path:
    """A committed checkout of ``files`` small modules in a few folders, one modified."""
    repo = root / "repo"
    for n in range(files):
        path = repo / f"pkg{n % 10}" / f"module_{n:05d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'"""Module {n}."""\n\nVALUE = {n}\n' + "# padding\n" * (n % 40))
    entry = repo / "train.py"
    entry.write_text("import pedigree\n\nprint('train')\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "bench")
    (repo / "pkg0" / "module_00000.py").write_text('"""Module 0, edited."""\n\nVALUE = -1\n')
    git(repo, "update-index", "-q", "--refresh")
    return repo


def context(entry: Path, *, refresh: bool = False) -> None:
    environment(refresh=refresh)
    code_reference(entry, refresh=refresh)


def timed(call, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def measure(files: int, calls: int, uncached: int, out: c.Output) -> dict:
    with tempfile.TemporaryDirectory(prefix="pedigree-bench-ctx-") as tmp:
        repo = make_checkout(Path(tmp), files)
        entry = repo / "train.py"
        wait = code_mod.RACY_WINDOW_NS / 1e9 + 0.1
        out.progress(f"waiting {wait:.1f} s: files younger than the racy window are re-checked")
        time.sleep(wait)

        started = time.perf_counter()
        context(entry)
        first = time.perf_counter() - started
        ref = code_reference(entry)
        if not (ref.dirty and ref.diff_digest and ref.commit):
            raise SystemExit(f"the benchmark checkout was not captured as dirty: {ref}")

        fresh = timed(lambda: context(entry, refresh=True), uncached)
        context(entry)  # settle the cache after the refreshes
        cached = timed(lambda: context(entry), calls)
        env_only = timed(environment, calls)
        code_only = timed(lambda: code_reference(entry), calls)

        # Without inotify (macOS, Windows, or a watch limit): the lstat snapshot per call.
        code_mod.watch_available = lambda: False
        code_reference(entry, refresh=True)
        no_watch = timed(lambda: context(entry), calls)
        code_mod.watch_available = watch_available

        env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
        baseline = timed(
            lambda: subprocess.run(
                ["git", "diff", "HEAD", *DIFF_OPTIONS], cwd=repo, capture_output=True, env=env
            ),
            uncached,
        )

    med, med_fresh, med_git = c.median(cached), c.median(fresh), c.median(baseline)
    return {
        "tracked_files": files + 1,
        "packages": len(environment().packages),
        "first_call_ms": c.ms(first),
        "uncached_median_ms": c.ms(med_fresh),
        "cached_median_ms": c.ms(med),
        "cached_p95_ms": c.ms(c.percentile(cached, 95)),
        "environment_median_ms": c.ms(c.median(env_only)),
        "code_reference_median_ms": c.ms(c.median(code_only)),
        "cached_without_inotify_median_ms": c.ms(c.median(no_watch)),
        "git_diff_median_ms": c.ms(med_git),
        "ratio_cached_to_uncached": round(med / med_fresh, 4),
        "ratio_cached_to_git_diff": round(med / med_git, 3),
        "goal_cached_ms": GOAL_CACHED_MS,
        "meets_goal": c.ms(med) <= GOAL_CACHED_MS,
    }


def main() -> None:
    args = c.parse_args(
        "Capture context: environment() + code_reference(), first call vs cached",
        extra=options,
    )
    files = 50 if args.quick else args.files
    calls = 200 if args.quick else args.calls
    uncached = 3 if args.quick else 20
    out = c.Output(args, "capture_context")
    c.header(out, "Capture context (environment() + code_reference()), per call")
    out.say(f"{files + 1:,} tracked files, one modified; {calls:,} cached calls …")
    res = measure(files, calls, uncached, out)
    out.results["context"] = res
    out.say(
        f"first call in the process : {res['first_call_ms']:.2f} ms "
        f"({res['packages']} packages scanned)"
    )
    out.say(f"uncached (refresh=True)   : median {res['uncached_median_ms']:.2f} ms")
    out.say(
        f"cached                    : median {res['cached_median_ms']:.3f} ms, "
        f"p95 {res['cached_p95_ms']:.3f} ms (environment {res['environment_median_ms']:.3f} ms, "
        f"code {res['code_reference_median_ms']:.3f} ms)"
    )
    out.say(
        f"cached, no inotify watch  : median {res['cached_without_inotify_median_ms']:.3f} ms "
        "(one lstat per tracked file)"
    )
    out.say(f"baseline git diff HEAD    : median {res['git_diff_median_ms']:.2f} ms")
    out.say(
        f"ratio cached/uncached {res['ratio_cached_to_uncached']:.3f}, "
        f"cached/git diff {res['ratio_cached_to_git_diff']:.2f}; "
        f"goal <= {GOAL_CACHED_MS} ms cached {c.verdict(res['meets_goal'])}"
    )
    out.finish()


if __name__ == "__main__":
    main()
