"""utils/settings.py：快速模式开关、随机种子、设备选择。"""
import os
import random
import subprocess
import sys

import numpy as np

from utils import settings


def fast_flag(value):
    env = {**os.environ, "COURSE_FAST": value}
    code = "from utils.settings import FAST, pick; print(FAST, pick('full', 'fast'))"
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.REPO_ROOT,
                          capture_output=True, text=True, check=True).stdout.split()


def test_course_fast_flag_is_read_from_the_environment():
    assert fast_flag("1") == ["True", "fast"]
    assert fast_flag("0") == ["False", "full"]
    assert fast_flag("") == ["False", "full"]


def test_seed_everything_makes_random_numpy_and_torch_repeat():
    import torch

    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    settings.seed_everything(123)
    first = draw()
    settings.seed_everything(123)
    assert draw() == first
    settings.seed_everything(124)
    assert draw() != first


def test_devices_fall_back_to_cpu_without_gpu():
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert settings.torch_device().type == expected
    assert settings.tf_device() in ("/CPU:0", "/GPU:0")


def test_the_code_version_is_known_without_git_too(monkeypatch):
    """记录检查点来历时要代码版本；没装 git（下载的压缩包）时不能因此崩溃。"""
    import subprocess

    from utils import provenance

    assert provenance.code_version()                       # 这个仓库里：提交号
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")
    monkeypatch.setattr(subprocess, "run", no_git)
    assert provenance.code_version() == "（不在 git 仓库里）"
