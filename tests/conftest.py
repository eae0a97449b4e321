"""测试共用的夹具。"""
import os

import pytest

# tests/browser 要构建好的网站、Chromium 和 .venv-book：只在 make test-browser 里跑（它设 COURSE_BROWSER_TESTS=1）
if not os.environ.get("COURSE_BROWSER_TESTS"):
    collect_ignore = ["browser"]


@pytest.fixture
def torch_one_thread():
    """测试里的模型很小：单线程更快；CPU 与别的进程共用时，多线程互相等待反而慢得多。结束后复原。"""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
