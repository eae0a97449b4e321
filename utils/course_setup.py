"""每章第一个单元调用的准备工作：在 Colab 中补装缺少的包；快速模式；中文字体。

第一个单元先找到（在 Colab 中先克隆）仓库，再调用这里的 prepare()；出错时只给一句中文说明并停下，
不让后面的单元接着报一串看不懂的错。
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

from utils import settings
from utils.plotting import use_chinese_font
from utils.settings import pick, seed_everything  # 第一个单元从这里一并导入，各章都用

__all__ = ["pick", "prepare", "seed_everything"]

# Colab 自带 TensorFlow、PyTorch、NumPy、matplotlib、jieba、tqdm；缺的是这几个（pip 包名 -> 模块名）
COLAB_MISSING = {"opencc": "opencc", "pypinyin": "pypinyin", "mplfonts": "mplfonts"}


def in_colab() -> bool:
    return "google.colab" in sys.modules


def pinned(names) -> list[str]:
    """requirements.txt 里这些包的锁定写法，例如 ['opencc==1.4.2', ...]。"""
    text = (settings.REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", text, re.M))
    return [f"{name}=={pins[name]}" for name in names]


def install_missing() -> None:
    """装上 COLAB_MISSING 里还导入不了的包（按 requirements.txt 的版本）；失败时停下并说明。"""
    missing = [pkg for pkg, module in COLAB_MISSING.items() if importlib.util.find_spec(module) is None]
    if not missing:
        return
    specs = pinned(missing)
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *specs],
                            capture_output=True, text=True)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["（pip 没有输出）"])[-1]
        raise SystemExit(f"安装 {' '.join(specs)} 失败（{last}）：检查网络后重新运行本单元；"
                         f"若 pip 找不到这个版本，把 requirements.txt 里的版本改成 pip 能装的再试。")
    importlib.invalidate_caches()


def prepare(fast: bool = False) -> bool:
    """准备好本章的运行环境，打印一行状态，返回是否快速模式。

    fast 是第一个单元里的 COURSE_FAST 变量；环境变量 COURSE_FAST=1 也能打开快速模式。
    """
    if in_colab():
        install_missing()
    settings.configure_allocator()
    on = settings.set_fast(fast)
    print("快速模式 COURSE_FAST=1" if on else "完整模式", "| 中文字体:", use_chinese_font())
    return on
