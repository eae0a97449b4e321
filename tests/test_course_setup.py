"""每章第一个单元：在 Colab 中克隆仓库、补装包；出错时一句中文说明并停下；快速模式开关。"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from utils import course_setup, settings
from utils.settings import REPO_ROOT, REPO_URL

SETUP_CELL = "".join(next(c for c in json.loads((REPO_ROOT / "notebooks" / "00_data_tour.ipynb")
                                               .read_text(encoding="utf-8"))["cells"]
                          if c["cell_type"] == "code")["source"])


def run_setup_cell(cwd, repo_url=REPO_URL, colab=True, fast_cell=False, fast_env=None):
    """在一个新的 Python 进程里（cwd 下）执行第一个单元；colab=True 时假装在 Colab 中。"""
    source = SETUP_CELL.replace(f'REPO_URL = "{REPO_URL}"', f"REPO_URL = {str(repo_url)!r}")
    if fast_cell:
        source = source.replace("COURSE_FAST = False", "COURSE_FAST = True", 1)
    fake_colab = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
    env = {k: v for k, v in os.environ.items() if k != "COURSE_FAST"}
    if fast_env is not None:
        env["COURSE_FAST"] = fast_env
    return subprocess.run([sys.executable, "-c", (fake_colab if colab else "") + source], cwd=cwd, env=env,
                          capture_output=True, text=True)


def local_git_repo(path):
    """用当前工作区的 utils/ 与 requirements.txt 建一个本地 git 仓库，代替网上的课程仓库。"""
    shutil.copytree(REPO_ROOT / "utils", path / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "requirements.txt", path)
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *cmd], cwd=path, check=True)
    return path


def test_the_cell_clones_the_repository_in_colab(tmp_path):
    """Colab 里（用本地仓库代替网上的地址）：克隆、找到 utils、打印模式与字体；再运行一次直接用已克隆的。"""
    repo = local_git_repo(tmp_path / "remote")
    colab = tmp_path / "content"
    colab.mkdir()
    result = run_setup_cell(colab, repo_url=repo)
    assert result.returncode == 0, result.stderr
    assert (colab / "rnn-tang-poems" / "utils" / "settings.py").exists()
    assert "完整模式 | 中文字体: " in result.stdout
    again = run_setup_cell(colab, repo_url=repo)
    assert again.returncode == 0, again.stderr


def test_a_failed_clone_says_what_to_change_and_stops(tmp_path):
    result = run_setup_cell(tmp_path, repo_url=tmp_path / "no-such-repo")
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert f"克隆 {tmp_path / 'no-such-repo'} 失败" in message and "REPO_URL" in message
    assert "StopIteration" not in result.stderr and "Traceback" not in result.stderr


def test_outside_colab_and_outside_the_repository_it_says_where_to_open_it(tmp_path):
    result = run_setup_cell(tmp_path, colab=False)
    assert result.returncode != 0 and "请在仓库的 notebooks/ 目录里打开本笔记本" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_install_says_what_failed_and_stops(monkeypatch):
    monkeypatch.setattr(course_setup, "COLAB_MISSING", {"no-such-package": "no_such_module_for_this_test"})
    monkeypatch.setattr(course_setup, "pinned", lambda names: ["no-such-package==0.0.0"])
    with pytest.raises(SystemExit) as stop:
        course_setup.install_missing()
    assert "安装 no-such-package==0.0.0 失败" in str(stop.value) and "重新运行本单元" in str(stop.value)


def test_pinned_versions_come_from_requirements_txt():
    specs = course_setup.pinned(course_setup.COLAB_MISSING)
    text = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert len(specs) == len(course_setup.COLAB_MISSING) and all(s in text for s in specs)


@pytest.mark.parametrize("fast_cell, fast_env, expected", [(False, None, "完整模式"), (True, None, "快速模式"),
                                                            (False, "1", "快速模式")])
def test_fast_mode_from_the_cell_or_the_environment(fast_cell, fast_env, expected):
    result = run_setup_cell(REPO_ROOT / "notebooks", colab=False, fast_cell=fast_cell, fast_env=fast_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(expected)


def test_set_fast_switches_pick_and_keeps_the_environment_in_step(monkeypatch):
    monkeypatch.setattr(settings, "_FAST_FROM_ENV", False)
    monkeypatch.setattr(settings, "FAST", False)
    monkeypatch.setenv("COURSE_FAST", "0")
    assert settings.set_fast(True) and settings.pick("full", "fast") == "fast"
    assert os.environ["COURSE_FAST"] == "1"
    assert not settings.set_fast(False) and settings.pick("full", "fast") == "full"
    monkeypatch.setattr(settings, "_FAST_FROM_ENV", True)  # 环境变量 COURSE_FAST=1 时总是快速模式
    assert settings.set_fast(False)
