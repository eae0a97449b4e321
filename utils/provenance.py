"""一个模型从哪来：哪台机器、哪个版本的代码、哪份数据训练的，文件本身的 sha256。

随仓库提交的检查点（models/）旁边各有一份这样的记录（models/README.md），tests/test_shipped_models.py 核对它。
"""
from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from utils.settings import REPO_ROOT


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def machine() -> str:
    """一句话说明这台机器：CPU 型号、核数、最宽的向量指令（AVX-512 与只有 AVX2 的机器训练速度不同）。"""
    cpu, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                cpu = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "（未知向量指令）"
    return f"{cpu}，{os.cpu_count()} 核，{simd}"


def code_version() -> str:
    """当前的 git 提交；工作区里有未提交的改动时加上“+ 未提交的改动”。"""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:  # 没装 git（例如下载的是压缩包）
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "（不在 git 仓库里）"
    return commit + (" + 未提交的改动" if git("status", "--porcelain", "--untracked-files=no") else "")


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
