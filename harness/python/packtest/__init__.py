"""packtest from Python: property-test a model packager in pytest.

The wheel carries the ``packtest`` binary (the same CLI as ``cargo install``); this module runs
it and turns its verdict into Python::

    import packtest

    def test_our_packager_keeps_the_contract():
        packtest.run("python3 pack.py {model_dir} {output}", cases=100)

``run`` returns a :class:`Report` when every case passed and raises :class:`PackagerFailed`
(an ``AssertionError``, so pytest shows it as a test failure) with packtest's own report, the
causes and the command that replays each, when the packager broke the contract. A command that
cannot be started, or a bad argument, raises :class:`UsageError`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Union

__all__ = ["run", "binary", "Report", "PacktestError", "PackagerFailed", "UsageError"]

TARGETS = ("sagemaker", "posix", "kserve")


class PacktestError(Exception):
    """packtest could not do its job (exit 3: a report file it could not write; a crash)."""


class UsageError(PacktestError, ValueError):
    """A bad argument, or a packager command that cannot be started (exit 2)."""


class PackagerFailed(AssertionError):
    """The packager broke the contract (exit 1). ``str()`` is packtest's report."""

    def __init__(self, report: "Report"):
        super().__init__(report.text)
        self.report = report


@dataclass
class Report:
    """One ``packtest run``: its text output, its JSON report and its exit code."""

    text: str
    json: Dict[str, Any]
    returncode: int

    @property
    def passed(self) -> bool:
        """Every case passed."""
        return self.returncode == 0


def binary() -> str:
    """The packtest executable: ``$PACKTEST_BIN``, the one this wheel installed, or ``PATH``'s."""
    env = os.environ.get("PACKTEST_BIN")
    if env:
        return env
    exe = "packtest.exe" if sys.platform == "win32" else "packtest"
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scheme_dir, exe)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("packtest")
    if found:
        return found
    raise PacktestError(
        "the packtest binary is not installed beside this module: reinstall the wheel "
        "(`pip install packtest`), or set PACKTEST_BIN to a packtest built with `cargo install`"
    )


def run(
    packager: Union[str, Sequence[str], None],
    *,
    cases: int = 200,
    seed: Optional[int] = None,
    target: str = "sagemaker",
    strict: bool = False,
    scenarios: Union[bool, Sequence[str]] = True,
    timeout: Optional[float] = None,
    extra_args: Sequence[str] = (),
    check: bool = True,
) -> Report:
    """Run ``packager`` against ``cases`` generated layouts and the scenario library.

    ``packager`` is a command template with ``{model_dir}`` and ``{output}`` (a string split
    like a shell would, or a list of words); ``None`` runs packtest's reference packager.
    ``seed`` defaults to ``$PACKTEST_SEED`` or 0, so a CI run is deterministic. ``scenarios``
    is ``True`` for the built-in library (the CLI's default too), ``False`` for none
    (``--no-scenarios``), or a list of directories of scenario or saved-failure files, run
    with the built-in library as ``packtest run --scenarios DIR`` does. With ``check=False`` a
    failing run returns its report instead of raising. Each failure's replay is a ``packtest
    run … --case N`` (or ``--scenario ID``) line that reruns that one case: the wheel puts
    ``packtest`` on ``PATH``.
    """
    # pytest leaves this function's frame out of a failure's traceback: the report is the
    # message, the module's own source is noise.
    __tracebackhide__ = True
    if target not in TARGETS:
        raise UsageError(f"target {target!r} is not one of {', '.join(TARGETS)}")
    if isinstance(cases, bool) or not isinstance(cases, int) or cases < 0:
        raise UsageError(f"cases must be a non-negative int, not {cases!r}")
    if seed is None:
        seed = int(os.environ.get("PACKTEST_SEED", "0"))
    argv = [binary(), "run", "--cases", str(cases), "--seed", str(seed), "--target", target]
    if packager is not None:
        template = packager if isinstance(packager, str) else shlex.join(list(packager))
        argv += ["--packager", template]
    if strict:
        argv.append("--strict")
    # The built-in library runs by default in the CLI, as here.
    if scenarios is False:
        argv.append("--no-scenarios")
    elif scenarios is not True:
        if isinstance(scenarios, (str, os.PathLike)):
            scenarios = [scenarios]
        for d in scenarios:
            argv += ["--scenarios", os.fspath(d)]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    argv += list(extra_args)
    with tempfile.TemporaryDirectory(prefix="packtest-py-") as tmp:
        json_path = os.path.join(tmp, "report.json")
        argv += ["--json", json_path, "--quiet"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PACKTEST_")}
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env
        )
        text = proc.stdout + (("\n" + proc.stderr) if proc.stderr.strip() else "")
        data: Dict[str, Any] = {}
        if os.path.exists(json_path):
            with open(json_path, encoding="utf-8") as f:
                data = json.load(f)
    report = Report(text=text.strip(), json=data, returncode=proc.returncode)
    if proc.returncode == 0:
        return report
    if proc.returncode == 1:
        if check:
            raise PackagerFailed(report)
        return report
    if proc.returncode == 2:
        raise UsageError(report.text)
    raise PacktestError(f"packtest exited with {proc.returncode}:\n{report.text}")
