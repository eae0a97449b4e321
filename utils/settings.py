"""运行设置集中在这里：快速模式、随机种子、计算设备、常用路径、仓库地址。

快速模式（COURSE_FAST=1，或笔记本第一个单元里的 COURSE_FAST = True）时各章用小数据、少步数运行
（CI 用）；不设时做完整的实验。
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

from utils.allocator import keep_freed_memory

# 课程仓库的地址：各章的 Colab 徽章和第一个单元里的 REPO_URL 都必须与它相同（tests/test_repo.py 检查）
REPO_URL = "https://github.com/rnn-tang-poems/rnn-tang-poems"
REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
POEMS_PATH = DATA_DIR / "poems.txt"
# 训练好的模型等大文件放在 git 之外
CACHE_DIR = Path(os.environ.get("COURSE_CACHE", REPO_ROOT / ".cache"))
# 宋诗语料（python -m scripts.build_poems --song 生成，约 40 MB，不进 git），只在训练第 12 章的大模型时用
SONG_POEMS_PATH = CACHE_DIR / "poems_song.txt"



def env_flag(name: str, default: bool = False) -> bool:
    """开关型的环境变量：没设时是 default；设成空、0、false、no 时关，别的值开。"""
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("", "0", "false", "no")


KEEP_FREED_MEMORY = False  # configure_allocator() 调过、且生效了才是 True


def configure_allocator() -> bool:
    """CPU 训练时让 glibc 留住释放的大块内存、下一步直接重用（utils/allocator.py，第 8 章第 8.1 节）；
    环境变量 COURSE_KEEP_FREED_MEMORY=0 时不调（基准用它做对照）。返回是否生效。

    导入本模块什么也不改；各章第一个单元（course_setup.prepare）、make poem 和 scripts/ 里的训练脚本
    开始时各调用一次，所以用的都是同一种设置。
    """
    global KEEP_FREED_MEMORY
    KEEP_FREED_MEMORY = env_flag("COURSE_KEEP_FREED_MEMORY", True) and keep_freed_memory()
    return KEEP_FREED_MEMORY

FAST = env_flag("COURSE_FAST")
_FAST_FROM_ENV = FAST


def set_fast(on: bool) -> bool:
    """笔记本里打开或关上快速模式；环境变量 COURSE_FAST=1 总是打开它。返回生效的值。

    同时写回环境变量，让笔记本启动的子进程（如 make poem）也用同一模式。
    """
    global FAST
    FAST = bool(on) or _FAST_FROM_ENV
    os.environ["COURSE_FAST"] = "1" if FAST else "0"
    return FAST


def pick(full, fast):
    """完整模式返回 full，快速模式（COURSE_FAST=1）返回 fast。"""
    return fast if FAST else full


def seed_everything(seed: int = 0) -> None:
    """同时设置 random、NumPy，以及已导入的 TensorFlow / PyTorch 的随机种子。"""
    import sys

    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.random.set_seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def torch_device():
    """有 CUDA 时用 GPU，否则用 CPU。"""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def tf_device() -> str:
    """TensorFlow 的设备名：有 GPU 时 '/GPU:0'，否则 '/CPU:0'。"""
    import tensorflow as tf

    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


def import_tensorflow():
    """安静地导入 TensorFlow 并返回它。

    TensorFlow 2.21 在导入时直接向 stderr（文件描述符 2）打印 oneDNN 与 absl 的启动日志，
    TF_CPP_MIN_LOG_LEVEL 拦不住；导入期间把描述符 2 暂时指向空设备，之后的报错照常显示。
    用法：tf = import_tensorflow()
    """
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # 导入之后的 C++ 日志也只留错误
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf
