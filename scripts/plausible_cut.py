"""无分类器引导的合理性约束截掉多少概率（utils.poet.implausible）。

    python -m scripts.plausible_cut            # 约半分钟，打印 Markdown 表格

写诗的模型（make poem 的默认模型）读测试集里随机取的真诗，以各自的题目为题（与 scripts.judge_poems --own-titles 一样：前 12 个字，
词表外的字去掉），在正文的每个位置（含结尾的 <eos>）上看模型给出的分布：概率低于最可能的字的 c 倍的那些字合起来占多少概率；
再与典型采样（utils.poet.typical，0.9）在同一个分布上截掉的概率相比。截掉的概率越多，写出的诗越“平”。
"""
from __future__ import annotations

import argparse

import numpy as np

from utils import poet
from utils.conditions import encode, own_title
from utils.data import load_poems, split_poems
from utils.frameworks import library
from utils.numpy_rnn import log_softmax
from utils.poem_cli import default_checkpoint
from utils.settings import pick

CUTS = (0.01, 0.001)
TYPICAL = 0.9


def removed_mass(step, state, ids: list[int], positions: int) -> dict[str, list[float]]:
    """读一首诗（ids：编码好的整个序列），最后 positions 个预测上各种截断截掉的概率。"""
    seen = {}

    def recording(token, state):
        logits, state = step(token, state)
        seen["z"] = np.asarray(logits, dtype=np.float64)
        return logits, state

    filtered = poet.typical(recording, TYPICAL)
    out = {**{f"约束 {c:g}": [] for c in CUTS}, f"典型采样 {TYPICAL:g}": []}
    for k, token in enumerate(ids[:-1]):
        kept, state = filtered(token, state)
        if k < len(ids) - 1 - positions:
            continue
        log_p = log_softmax(seen["z"])
        p = np.exp(log_p)
        for c in CUTS:
            out[f"约束 {c:g}"].append(float(p[poet.implausible(log_p, c)].sum()))
        out[f"典型采样 {TYPICAL:g}"].append(float(p[np.asarray(kept) < seen["z"] - poet.BAN / 2].sum()))
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--poems", type=int, default=pick(150, 10), help="读几首测试集的诗")
    p.add_argument("--seed", type=int, default=0, help="随机取诗的种子")
    args = p.parse_args(argv)
    lib = library("torch")
    model, vocab = lib.load_checkpoint(default_checkpoint("torch", "lstm"))
    lib.prepare_to_write(model)
    test = [q for q in split_poems(load_poems())[2] if not vocab.missing(q.content)]
    chosen = [test[i] for i in np.random.default_rng(args.seed).choice(len(test), args.poems, replace=False)]
    step, state = lib.writing_step(model)
    masses: dict[str, list[float]] = {}
    for q in chosen:
        positions = len(vocab.encode(q.content)) - 1  # 正文的字与 <eos>
        ids = encode(vocab, q.content, title=own_title(vocab, q.title))
        for name, values in removed_mass(step, state, ids, positions).items():
            masses.setdefault(name, []).extend(values)
    count = len(next(iter(masses.values())))
    print(f"测试集里随机取的 {args.poems} 首真诗、{count:,} 个位置上截掉的概率：\n")
    print("| 截断 | 平均 | 中位数 |\n|---|---:|---:|")
    for name, values in masses.items():
        print(f"| {name} | {np.mean(values):.1%} | {np.median(values):.1%} |")
    return {name: float(np.mean(v)) for name, v in masses.items()}


if __name__ == "__main__":
    main()
