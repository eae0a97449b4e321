"""Makefile 的目标、make help、README 与 CI 说的是同一件事。"""
import re
import subprocess

from utils.settings import REPO_ROOT


def read(name):
    return (REPO_ROOT / name).read_text(encoding="utf-8")


def phony_targets():
    line = re.search(r"^\.PHONY:(.*)$", read("Makefile"), re.M).group(1)
    return line.split()


def help_lines():
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def test_help_lists_every_target_once_with_a_line():
    """make help 由目标行上的 ## 注释生成：每个 .PHONY 目标恰好一行，带说明，没有多余的。"""
    lines = help_lines()
    listed = [line.split()[1] for line in lines]
    assert sorted(listed) == sorted(phony_targets())
    for line in lines:
        assert len(line.split(maxsplit=2)) == 3, f"没有说明：{line}"


def test_help_sets_nothing_up():
    """make help 没有前提（不建 .venv）；不带目标的 make 仍是 setup。"""
    makefile = read("Makefile")
    assert re.search(r"^help: *## ", makefile, re.M)
    assert re.search(r"^\.DEFAULT_GOAL := setup$", makefile, re.M)


def test_readme_mentions_every_target():
    readme = read("README.md")
    missing = [t for t in phony_targets() if not re.search(rf"make {re.escape(t)}(?![\w-])", readme)]
    assert not missing, f"README 没提到：{missing}"


def test_readme_and_workflow_run_what_ci_runs():
    """.ci/run 是 CI 的唯一定义：GitHub Actions 直接调用它，README 的“CI 跑什么”按同样的顺序列出它的 make 目标。"""
    ci_targets = re.findall(r"^make ([\w-]+)", read(".ci/run"), re.M)
    assert ci_targets == ["check-platforms", "test", "test-colab", "test-browser"]
    workflow = read(".github/workflows/ci.yml")
    assert re.search(r"^\s+run: \.ci/run$", workflow, re.M)
    assert not re.search(r"^\s+(run: )?make ", workflow, re.M), "ci.yml 自己调用 make：改在 .ci/run 里"
    readme = read("README.md")
    section = readme.split("\n## CI 跑什么\n", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^make ([\w-]+)", section, re.M) == ci_targets
    assert ".github/workflows/ci.yml" in section and ".ci/run" in section
    helped = {line.split()[1] for line in help_lines() if "CI 跑" in line}
    assert helped == set(ci_targets), "make help 里标着“CI 跑”的目标应当正是 .ci/run 跑的"
