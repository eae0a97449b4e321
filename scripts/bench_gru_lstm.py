"""命令行：GRU 与 LSTM 的训练速度对比（PyTorch、TensorFlow），计时代码在 utils/speed.py。

每个框架测两种配置：完整的写诗模型（输出层 = 整个词表）和只有 64 类输出的模型（时间几乎都在循环层上）。
直接运行（本机约几分钟）：
    python -m scripts.bench_gru_lstm --repeats 5      # 在仓库根目录运行
"""
from __future__ import annotations

import argparse

from utils.frameworks import FRAMEWORKS, NAMES
from utils.settings import configure_allocator
from utils.speed import compare_speed, summary


def main():
    parser = argparse.ArgumentParser(description="GRU 与 LSTM 的训练速度对比")
    parser.add_argument("--vocab", type=int, default=7000, help="完整模型的词表大小")
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="交替计时的轮数")
    parser.add_argument("--steps", type=int, default=5, help="每轮每个模型训练的步数")
    args = parser.parse_args()
    configure_allocator()
    for framework in FRAMEWORKS:
        for vocab in (args.vocab, 64):
            res = compare_speed(framework, vocab, embed_dim=args.embed, hidden_dim=args.hidden,
                                steps=args.steps, repeats=args.repeats)
            print(f"{NAMES[framework]:10s} 输出 {vocab:5d} 类: {summary(res)}", flush=True)


if __name__ == "__main__":
    main()
