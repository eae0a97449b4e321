"""GRU 与 LSTM 的训练速度：第 6、7 章的写诗模型（utils.tf_poems、utils.torch_poems），交替计时。

测速用随机编号的批次：速度只和形状有关，与内容无关。GRU 与 LSTM 交替计时（每轮换一次先后），
每轮算一次 GRU/LSTM 速度比，这样机器忙闲的变化对两者的影响大致相同。
第 5 章和命令行脚本 scripts/bench_gru_lstm.py 都用这里的 compare_speed。
"""
from __future__ import annotations

import time

import numpy as np

from utils.frameworks import library
from utils.settings import seed_everything

CELLS = ("lstm", "gru")


def make_step(framework: str, cell: str, vocab: int, embed_dim: int, hidden_dim: int, lr: float = 3e-3):
    """单层、不共享嵌入的第 6 章（'tf'）或第 7 章（'torch'）模型；返回那一章 make_trainer 的
    step(ids, lengths)：训练一步（Adam，梯度裁剪到 5，学习率不变），返回损失时这一步已真正算完。"""
    lib = library(framework)
    model = lib.build_model(vocab, embed_dim=embed_dim, hidden_dim=hidden_dim, num_layers=1,
                            cell=cell, tie_embeddings=False)
    return lib.make_trainer(model, learning_rate=lr)


def compare_speed(framework: str, vocab: int, embed_dim: int = 128, hidden_dim: int = 256,
                  batch: int = 64, seq_len: int = 32, steps: int = 5, repeats: int = 5,
                  warmup: int = 2, seed: int = 0) -> dict:
    """GRU 与 LSTM 交替训练计时。返回 {"lstm": [每轮 字/秒], "gru": [...], "ratio": [每轮 GRU/LSTM]}。

    framework 是 "tf" 或 "torch"；vocab 是输出层的类数（很小时几乎只剩循环层的时间）。
    每轮各跑 steps 步；第 r 轮奇偶交换先后顺序。“字/秒”= 批大小 × 序列长度 × 步数 / 秒。
    """
    if vocab <= 4:
        raise ValueError(f"vocab 须大于 4（0–3 是特殊符号），收到 {vocab} (vocab too small)")
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, vocab, size=(batch, seq_len + 1)).astype(np.int32)  # 输入、目标各 seq_len 个
    lengths = np.full(batch, seq_len + 1, dtype=np.int32)
    step_fns = {c: make_step(framework, c, vocab, embed_dim, hidden_dim) for c in CELLS}
    for fn in step_fns.values():          # 预热：建图、分配内存
        for _ in range(warmup):
            fn(ids, lengths)
    result = {c: [] for c in CELLS}
    for r in range(repeats):
        for c in (CELLS if r % 2 == 0 else CELLS[::-1]):
            start = time.perf_counter()
            for _ in range(steps):
                step_fns[c](ids, lengths)
            result[c].append(batch * seq_len * steps / (time.perf_counter() - start))
    result["ratio"] = [g / l for g, l in zip(result["gru"], result["lstm"])]
    return result


def summary(result: dict) -> str:
    """一行文字：两者的中位速度与速度比的中位数、最小、最大。"""
    r = np.array(result["ratio"])
    return (f"LSTM {np.median(result['lstm']):,.0f} 字/秒，GRU {np.median(result['gru']):,.0f} 字/秒，"
            f"GRU/LSTM = {np.median(r):.2f}（{len(r)} 轮，最小 {r.min():.2f}，最大 {r.max():.2f}）")
