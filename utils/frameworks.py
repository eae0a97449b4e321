"""一处决定用哪个框架：'tf' 是第 6 章的 utils.tf_poems（TensorFlow / Keras），'torch' 是第 7 章的
utils.torch_poems（PyTorch）。

两个模块有同样的公开函数，做同样的事（SHARED 列出它们，tests/test_frameworks.py 核对）。别的模块
（make poem、第 6、7 章的主模型、第 5 章的速度比较、基准）都从 library() 拿到其中一个，不再自己分支。
"""
from __future__ import annotations

import importlib

FRAMEWORKS = {"tf": "utils.tf_poems", "torch": "utils.torch_poems"}
NAMES = {"tf": "TensorFlow", "torch": "PyTorch"}
# 两个模块都有、用法相同的名字
SHARED = ("myRNNModel", "build_model", "compute_loss", "model_loss", "make_trainer", "train", "evaluate",
          "token_nlls", "choose_num_threads", "make_step_fn", "prepare_to_write", "writing_step", "gen", "save_checkpoint",
          "load_checkpoint", "restore_weights", "CheckpointError", "CHECKPOINT_SUFFIX")


def library(framework: str):
    """'tf' 或 'torch' -> 那个框架的写诗模块。"""
    if framework not in FRAMEWORKS:
        raise ValueError(f"未知框架 {framework!r}，可选 {list(FRAMEWORKS)} (unknown framework)")
    return importlib.import_module(FRAMEWORKS[framework])
