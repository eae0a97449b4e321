"""GRU 与 LSTM 的训练速度：第 6、7 章的写诗模型（utils.tf_poems、utils.torch_poems），交替计时。

测速用随机编号的批次：速度只和形状有关，与内容无关。GRU 与 LSTM 交替计时（每轮换一次先后），
每轮算一次 GRU/LSTM 速度比，这样机器忙闲的变化对两者的影响大致相同。
第 5 章和命令行脚本 scripts/bench_gru_lstm.py 都用这里的 compare_speed。
"""
from __future__ import annotations

import time

import numpy as np

from utils.settings import seed_everything

CELLS = ("lstm", "gru")


def torch_train_step(cell: str, vocab: int, embed_dim: int, hidden_dim: int, lr: float = 3e-3):
    """单层、不共享嵌入的 torch_poems 模型；返回 step(ids, lengths)：torch_poems.train_one_step 走一步。"""
    import torch

    from utils import torch_poems

    model = torch_poems.build_model(vocab, embed_dim=embed_dim, hidden_dim=hidden_dim, num_layers=1,
                                    cell=cell, tie_embeddings=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    device = next(model.parameters()).device

    def step(ids, lengths):
        return torch_poems.train_one_step(model, optimizer, torch.as_tensor(ids, device=device).long(),
                                          torch.as_tensor(lengths, device=device))

    return step


def tensorflow_train_step(cell: str, vocab: int, embed_dim: int, hidden_dim: int, lr: float = 3e-3):
    """同样设置的 tf_poems 模型；返回 step(ids, lengths)：tf_poems.make_train_step 编译的一步。"""
    from utils import tf_poems

    import keras

    model = tf_poems.build_model(vocab, embed_dim=embed_dim, hidden_dim=hidden_dim, num_layers=1,
                                 cell=cell, tie_embeddings=False)
    train_one_step = tf_poems.make_train_step(model, keras.optimizers.Adam(lr, global_clipnorm=5.0))

    def step(ids, lengths):
        return float(train_one_step(ids, lengths))  # float() 等这一步真正算完

    return step


STEP_MAKERS = {"torch": torch_train_step, "tensorflow": tensorflow_train_step}


def compare_speed(framework: str, vocab: int, embed_dim: int = 128, hidden_dim: int = 256,
                  batch: int = 64, seq_len: int = 32, steps: int = 5, repeats: int = 5,
                  warmup: int = 2, seed: int = 0) -> dict:
    """GRU 与 LSTM 交替训练计时。返回 {"lstm": [每轮 字/秒], "gru": [...], "ratio": [每轮 GRU/LSTM]}。

    framework 是 "torch" 或 "tensorflow"；vocab 是输出层的类数（很小时几乎只剩循环层的时间）。
    每轮各跑 steps 步；第 r 轮奇偶交换先后顺序。“字/秒”= 批大小 × 序列长度 × 步数 / 秒。
    """
    if framework not in STEP_MAKERS:
        raise ValueError(f"framework 只能是 {list(STEP_MAKERS)}，收到 {framework!r} (unknown framework)")
    if vocab <= 4:
        raise ValueError(f"vocab 须大于 4（0–3 是特殊符号），收到 {vocab} (vocab too small)")
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, vocab, size=(batch, seq_len + 1)).astype(np.int32)  # 输入、目标各 seq_len 个
    lengths = np.full(batch, seq_len + 1, dtype=np.int32)
    step_fns = {c: STEP_MAKERS[framework](c, vocab, embed_dim, hidden_dim) for c in CELLS}
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
