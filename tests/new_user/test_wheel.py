"""pytest against the installed wheel (tests/new_user/run.sh installs it as the README says).

The first test runs a correct packager and reads the JSON report. The others show the failure a broken packager raises, and the errors a bad
call gets, so a change to the module or the CLI's exit codes turns them red.
"""
import os
import sys

import pytest

import packtest

HERE = os.path.dirname(os.path.abspath(__file__))
WRAPPERS = os.environ.get("PACKTEST_WRAPPERS", os.path.join(HERE, "..", "conformance", "wrappers"))
GOOD = f"{sys.executable} {WRAPPERS}/py-deref-safe.py {{model_dir}} {{output}}"
NAIVE = f"{sys.executable} {WRAPPERS}/py-tarfile.py {{model_dir}} {{output}}"


def test_a_correct_packager_passes():
    report = packtest.run(GOOD, cases=40)
    assert report.passed
    assert report.json["schema_version"] == 1
    statuses = [r["status"] for r in report.json["results"]]
    # the baseline, the built-in scenario library and the 40 generated cases, all run
    assert len(statuses) > 41 and set(statuses) == {"passed"}


def test_a_naive_tarfile_packager_fails_with_the_report():
    with pytest.raises(packtest.PackagerFailed) as failed:
        packtest.run(NAIVE, cases=20)
    message = str(failed.value)
    # SageMaker hosting cannot extract the symlink members tarfile stores: the cause says so
    # in the packager's terms.
    assert "[symlinks-stored" in message
    assert "replay" in message.lower()
    # each failure replays alone, with the CLI the wheel put on PATH
    assert "replay: packtest run " in message and ("--case " in message or "--scenario " in message)
    assert {c["property"] for c in failed.value.report.json["causes"]} >= {"member-types"}


def test_the_same_naive_packager_passes_for_posix():
    # GNU tar on a POSIX consumer recreates the links, so the same archive is right there.
    assert packtest.run(NAIVE, cases=20, target="posix").passed


def test_check_false_returns_the_failing_report():
    report = packtest.run(NAIVE, cases=5, check=False)
    assert not report.passed and report.returncode == 1


def test_the_reference_packager_runs_when_no_packager_is_given():
    assert packtest.run(None, cases=10, scenarios=False).passed


def test_a_packager_without_output_is_a_usage_error():
    with pytest.raises(packtest.UsageError, match=r"\{output\}"):
        packtest.run("tar -czf out.tgz {model_dir}", cases=1)


def test_an_unknown_target_is_a_usage_error():
    with pytest.raises(packtest.UsageError, match="not one of"):
        packtest.run(GOOD, target="vertex")


def test_the_binary_is_the_one_the_wheel_installed():
    assert os.path.dirname(packtest.binary()) == os.path.dirname(sys.executable)
