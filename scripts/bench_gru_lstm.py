"""GRU 与 LSTM 对比：同样大小下的训练速度（PyTorch、TensorFlow），同样训练预算下的诗歌困惑度。

第 04 章用这里的小字符模型看门的取值，第 05 章用它检验原文“GRU 快 20–30%”等说法。
直接运行（本机约几分钟）：
    python scripts/bench_gru_lstm.py --repeats 5
测速用随机编号的批次：速度只和形状有关，与内容无关。GRU 与 LSTM 交替计时（每轮换一次先后），
每轮算一次 GRU/LSTM 速度比，这样机器忙闲的变化对两者的影响大致相同。
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CELLS = ("lstm", "gru")


# ---------------------------------------------------------------- PyTorch 模型

@contextmanager
def lstm_forget_bias(value: float):
    """with 块内新建的 torch.nn.LSTM，遗忘门偏置都加 value（Keras 的 unit_forget_bias 相当于加 1）。

    PyTorch 默认不加，遗忘门起初约为 σ(0)=0.5。用上下文管理器是为了影响在函数内部新建 LSTM 的代码
    （如 utils.long_range.fit_first_token）。PyTorch 的门顺序是 i, f, g, o，遗忘门是第二块。
    """
    import torch

    original = torch.nn.LSTM

    class LSTMWithForgetBias(original):
        def reset_parameters(self):
            super().reset_parameters()
            with torch.no_grad():
                for name, p in self.named_parameters():
                    if name.startswith("bias_ih"):
                        p[self.hidden_size:2 * self.hidden_size] += value

    torch.nn.LSTM = LSTMWithForgetBias
    try:
        yield
    finally:
        torch.nn.LSTM = original


def torch_poem_model(cell: str, vocab: int, embed: int = 128, hidden: int = 256, layers: int = 1):
    """嵌入 -> LSTM/GRU -> 全连接到词表：与诗歌生成模型同一结构。"""
    from torch import nn

    class PoemLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, embed)
            self.rnn = _layer(cell, nn)(embed, hidden, num_layers=layers, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, ids):
            out, _ = self.rnn(self.embed(ids))
            return self.head(out)

    return PoemLM()


LONG_RANGE_MODELS = ("RNN", "LSTM", "LSTM b_f+1", "GRU")


def long_range_accuracy(model: str, gap: int, steps: int = 1500, seeds=(0,)) -> float:
    """“记住第一个符号”任务（utils.long_range）的测试准确率，对 seeds 取平均。

    model 是 LONG_RANGE_MODELS 之一；"LSTM b_f+1" 是遗忘门偏置加 1 的 LSTM。
    """
    from utils.long_range import fit_first_token

    if model not in LONG_RANGE_MODELS:
        raise ValueError(f"model 只能是 {LONG_RANGE_MODELS}，收到 {model!r} (unknown model)")
    cell = "lstm" if model.startswith("LSTM") else model.lower()
    with lstm_forget_bias(1.0 if model == "LSTM b_f+1" else 0.0):
        return float(np.mean([fit_first_token(cell, gap, steps=steps, seed=s) for s in seeds]))


def _layer(cell, module):
    if cell not in CELLS:
        raise ValueError(f"cell 只能是 {CELLS}，收到 {cell!r} (unknown cell)")
    return {"lstm": module.LSTM, "gru": module.GRU}[cell]


def torch_train_step(model, lr: float = 3e-3, clip: float = 5.0, pad_id: int = 0):
    """返回 step(ids) -> 损失：用 ids[:, :-1] 预测 ids[:, 1:]，补齐位置不计损失。"""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step(ids):
        ids = torch.as_tensor(ids, dtype=torch.long)
        logits = model(ids[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten(),
                                                 ignore_index=pad_id)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss.item()

    return step


def train_poem_lm(cell: str, seqs, steps: int, batch: int = 64, embed: int = 128, hidden: int = 256,
                  lr: float = 3e-3, seed: int = 0, progress: bool = True):
    """在编号后的诗 seqs 上训练 steps 步（批次按长度分桶，循环取用）。返回 (模型, 每步损失)。

    同一 seed 下 LSTM 与 GRU 看到完全相同的批次，训练预算相同。
    """
    import torch
    from tqdm.auto import tqdm

    from utils.data import iterate_batches

    torch.manual_seed(seed)
    vocab = 1 + max(max(s) for s in seqs)
    model = torch_poem_model(cell, vocab, embed, hidden)
    step = torch_train_step(model, lr)

    def batches():
        epoch = 0
        while True:
            yield from (ids for ids, _ in iterate_batches(seqs, batch, seed=seed + epoch))
            epoch += 1

    losses = []
    model.train()
    for ids, _ in zip(batches(), tqdm(range(steps), desc=f"训练 {cell.upper()}", disable=not progress)):
        losses.append(step(ids))
    model.eval()
    return model, losses


def torch_perplexity(model, seqs, batch: int = 128, pad_id: int = 0) -> float:
    """困惑度 = exp(每个被预测字的平均负对数似然)，不计补齐位置。"""
    import torch

    from utils.data import iterate_batches

    total, count = 0.0, 0
    with torch.no_grad():
        for ids, _ in iterate_batches(seqs, batch, shuffle=False):
            ids = torch.as_tensor(ids, dtype=torch.long)
            logits = model(ids[:, :-1])
            target = ids[:, 1:]
            nll = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(),
                                                    ignore_index=pad_id, reduction="sum")
            total += float(nll)
            count += int((target != pad_id).sum())
    return math.exp(total / count)


# ---------------------------------------------------------------- Keras 模型

def keras_train_step(cell: str, vocab: int, embed: int = 128, hidden: int = 256, lr: float = 3e-3):
    """同一结构的 Keras 模型（编译好的 train_on_batch）。返回 step(ids) -> 损失。"""
    from utils.settings import import_tensorflow

    import_tensorflow()
    import keras

    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(vocab, embed),
        _layer(cell, keras.layers)(hidden, return_sequences=True),
        keras.layers.Dense(vocab),
    ])
    model.compile(optimizer=keras.optimizers.Adam(lr, clipnorm=5.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def step(ids):
        return float(model.train_on_batch(ids[:, :-1], ids[:, 1:]))

    return step


# ---------------------------------------------------------------- 测速

def compare_speed(framework: str, vocab: int, embed: int = 128, hidden: int = 256, batch: int = 64,
                  seq_len: int = 32, steps: int = 5, repeats: int = 5, warmup: int = 2,
                  seed: int = 0) -> dict:
    """GRU 与 LSTM 交替训练计时。返回 {"lstm": [每轮 字/秒], "gru": [...], "ratio": [每轮 GRU/LSTM]}。

    每轮各跑 steps 步；第 r 轮奇偶交换先后顺序。“字/秒”= 批大小 × 序列长度 × 步数 / 秒。
    """
    makers = {"torch": lambda c: torch_train_step(torch_poem_model(c, vocab, embed, hidden)),
              "tensorflow": lambda c: keras_train_step(c, vocab, embed, hidden)}
    if framework not in makers:
        raise ValueError(f"framework 只能是 {list(makers)}，收到 {framework!r} (unknown framework)")
    if framework == "torch":
        import torch

        torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, vocab, size=(batch, seq_len + 1)).astype(np.int32)
    step_fns = {c: makers[framework](c) for c in CELLS}
    for fn in step_fns.values():          # 预热：建图、分配内存
        for _ in range(warmup):
            fn(ids)
    result = {c: [] for c in CELLS}
    for r in range(repeats):
        for c in (CELLS if r % 2 == 0 else CELLS[::-1]):
            start = time.perf_counter()
            for _ in range(steps):
                step_fns[c](ids)
            result[c].append(batch * seq_len * steps / (time.perf_counter() - start))
    result["ratio"] = [g / l for g, l in zip(result["gru"], result["lstm"])]
    return result


def summary(result: dict) -> str:
    """一行文字：两者的中位速度与速度比的中位数、最小、最大。"""
    r = np.array(result["ratio"])
    return (f"LSTM {np.median(result['lstm']):,.0f} 字/秒，GRU {np.median(result['gru']):,.0f} 字/秒，"
            f"GRU/LSTM = {np.median(r):.2f}（{len(r)} 轮，最小 {r.min():.2f}，最大 {r.max():.2f}）")


def main():
    parser = argparse.ArgumentParser(description="GRU 与 LSTM 的训练速度对比")
    parser.add_argument("--vocab", type=int, default=7000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    for framework in ("torch", "tensorflow"):
        for vocab in (args.vocab, 64):
            res = compare_speed(framework, vocab, hidden=args.hidden, steps=args.steps, repeats=args.repeats)
            print(f"{framework:10s} 词表 {vocab:5d}: {summary(res)}", flush=True)


if __name__ == "__main__":
    main()
