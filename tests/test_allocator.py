"""utils/allocator.py：调高 glibc 的阈值后，反复分配、释放同样大小的大数组不再每次都缺页。

数的是缺页次数（getrusage 的 ru_minflt），不是时间（2026-12-04 的 2 核 AMD EPYC 上：默认 5,440 次，调高后 0 次）；每种设置在一个新进程里量，互不影响。
"""
import json
import os
import platform
import subprocess
import sys

import pytest

from utils.settings import REPO_ROOT, env_flag

glibc_linux = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="只在用 glibc 的 Linux 上生效")

PROBE = """
import json, resource
import utils.settings as settings
settings.configure_allocator()       # 按 COURSE_KEEP_FREED_MEMORY 调或不调
import numpy as np
np.ones(8 << 20)                     # 64 MB：第一次总要向操作系统要内存
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    np.ones(8 << 20)                 # 同样大小，用完就释放
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps(dict(kept=settings.KEEP_FREED_MEMORY, faults=faults)))
"""


def probe(switch: str) -> dict:
    env = dict(os.environ, COURSE_KEEP_FREED_MEMORY=switch)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


@glibc_linux
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    default, kept = probe("0"), probe("1")
    assert not default["kept"] and kept["kept"]
    # glibc 默认：每次都 mmap 新的内存，写时逐页缺页（开了透明大页时一页 2 MB，64 MB 也要 32 页）
    assert default["faults"] >= 10 * 32 // 2, default
    assert kept["faults"] <= default["faults"] / 10, (default, kept)   # 留在堆里重用：几乎不再缺页


def test_the_switch_turns_it_off(monkeypatch):
    monkeypatch.setenv("COURSE_KEEP_FREED_MEMORY", "0")
    assert env_flag("COURSE_KEEP_FREED_MEMORY", True) is False


def test_importing_the_course_modules_changes_nothing():
    """导入课程的模块不改环境变量、不调分配器：这些都要各章、脚本明确调用（prepare、configure_allocator）。"""
    code = """
import os
before = dict(os.environ)
import utils.settings, utils.course_setup, utils.course_models, utils.data, utils.decoding, utils.metrics, utils.training
assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
assert not utils.settings.KEEP_FREED_MEMORY
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
