"""基准：训练与生成有多快（速度表；make bench 先运行它，再运行 scripts/bench_quality.py）。

    python -m scripts.bench_speed              # 在仓库根目录运行；--seconds 每个模型训练多少秒

速度表：TensorFlow 与 PyTorch 各自的 SimpleRNN / LSTM / GRU（第 6、7 章的模型代码），
训练每秒处理的字数、生成每秒写几首五绝，以及训练达到本机 float32 矩阵乘峰值的几成。
峰值怎么测、训练的浮点运算怎么估计，见 scripts/bench_common.py（各基准共用的部分都在那里）。

结果写到 .cache/bench/speed.json（不进 git），并打印成 Markdown 表格；作者测试机上的一份提交在 results/bench/。
"""
from __future__ import annotations

import argparse
import itertools
import time

from scripts.bench_common import (COURSE, Runner, batches, choose_torch_threads, load_data, machine, matmul_peak,
                                  print_data, print_elapsed, report, training_flops)
from utils.frameworks import FRAMEWORKS, NAMES as FRAMEWORK_NAMES
from utils.settings import configure_allocator, pick, seed_everything

CELLS = ("simple", "lstm", "gru")
CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


def measure_speed(data, seconds: float, gen_count: int) -> dict:
    """每个框架 × 每种单元：训练 seconds 秒（先热身 3 步），再写 gen_count 首五绝。"""
    from tqdm import tqdm

    peak = matmul_peak()
    rows = []
    V = len(data.vocab)
    recipe = COURSE
    for framework in FRAMEWORKS:
        for cell in tqdm(CELLS, desc=FRAMEWORK_NAMES[framework], leave=False):
            seed_everything(0)
            runner = Runner(framework, V, {**recipe["model"], "cell": cell},
                            recipe["learning_rate"], recipe["clipnorm"], recipe["decay_steps"])
            # 一遍接一遍地取批（快速模式的数据只够几批）
            stream = (b for epoch in itertools.count() for b in batches(recipe, data.train, epoch))
            for _ in range(3):
                runner.train_step(*next(stream))
            tokens = positions = steps = 0
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                ids, lengths = next(stream)
                runner.train_step(ids, lengths)
                tokens += int(lengths.sum()) - len(lengths)
                positions += ids.shape[0] * (ids.shape[1] - 1)
                steps += 1
            train_s = time.perf_counter() - start
            runner.poems(data.vocab, 1)          # 热身（TensorFlow 要先追踪计算图）
            start = time.perf_counter()
            runner.poems(data.vocab, gen_count, seed=1)
            gen_s = time.perf_counter() - start
            per_position = training_flops(data, runner.config)
            flops = 3 * per_position * positions / train_s
            rows.append(dict(framework=framework, cell=cell, steps=steps, seconds=train_s,
                             tokens_per_s=tokens / train_s, padding=1 - tokens / positions,
                             train_gflops=flops / 1e9, peak_share=flops / 1e9 / peak["peak"],
                             forward_flops_per_position=per_position,
                             poems_per_s=gen_count / gen_s))
    return dict(peak=peak, recipe=recipe, rows=rows)


def speed_markdown(result: dict) -> str:
    peak = result["peak"]
    lines = [f"本机 float32 矩阵乘峰值：{peak['peak']:.1f} GFLOP/s"
             f"（NumPy {peak['numpy']:.1f}，PyTorch {peak['torch']:.1f}）", "",
             "| 框架 | 单元 | 训练 字/秒 | 训练 GFLOP/s | 占峰值 | 生成 五绝/秒 |",
             "|---|---|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {FRAMEWORK_NAMES[r['framework']]} | {CELL_NAMES[r['cell']]} | "
                     f"{r['tokens_per_s']:,.0f} | {r['train_gflops']:.1f} | "
                     f"{r['peak_share']:.0%} | {r['poems_per_s']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    configure_allocator()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=pick(30.0, 2.0), help="每个模型训练多少秒")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    data = load_data()
    print_data(data)
    threads = choose_torch_threads(data)
    report("speed", "速度", speed_markdown, dict(
        machine=machine(), torch_thread_trial=threads,
        **measure_speed(data, args.seconds, pick(20, 2))))
    print_elapsed(start)


if __name__ == "__main__":
    main()
