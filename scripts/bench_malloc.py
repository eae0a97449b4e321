"""基准：内存分配——glibc 默认与留住释放的内存（utils/allocator.py）对照（内存分配表，make bench-malloc）。

    python -m scripts.bench_malloc             # 在仓库根目录运行；--steps 每种情形计时的训练步数

内存分配表：同样的课程配方，每种情形在新进程里训练 MALLOC_STEPS 步，一次用 glibc 默认的分配
（COURSE_KEEP_FREED_MEMORY=0），一次留住释放的大块内存（utils/allocator.py，课程的默认），比较字/秒、每步缺页次数、
系统态 CPU 的比例与峰值内存；两种设置轮流先跑，重复 MALLOC_REPEATS 次。
新进程运行的是 python -m scripts.bench_malloc --run --case …（malloc_run），结果写到 --out。

结果写到 .cache/bench/malloc.json（不进 git），并打印成 Markdown 表格；作者测试机上的一份提交在 results/bench/，
README 的表由 malloc_table 从它排出（tests/test_benchmark.py 核对）。
"""
from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

from scripts.bench_common import COURSE, Runner, batches, child, load_data, machine, print_elapsed, report
from utils.settings import configure_allocator, pick, seed_everything

MALLOC_STEPS = pick(80, 3)        # 每种情形计时的训练步数（先热身 5 步）
MALLOC_REPEATS = pick(3, 1)       # 每种情形 × 每种设置各跑几次（两种设置轮流先跑）
MALLOC_CASES = {"tf": "TensorFlow", "torch": "PyTorch",
                "tf+torch": "PyTorch，同一进程里先用第 6 章的 train 训练过 TensorFlow（第 8 章的情形）"}


def malloc_run(case: str, data, steps: int) -> dict:
    """一种情形（在它自己的进程里；留不留住释放的内存由父进程的 COURSE_KEEP_FREED_MEMORY 决定）：
    按课程配方训练 steps 步，量字/秒、每步缺页次数与系统态 CPU 的比例。
    tf+torch 是第 8 章的情形：先用第 6 章的 train 训练 TensorFlow 模型 steps 步，再量 PyTorch。"""
    import resource

    from utils.settings import KEEP_FREED_MEMORY

    framework = case
    if case == "tf+torch":
        from utils import tf_poems

        seed_everything(0)
        tf_poems.train(tf_poems.build_model(len(data.vocab), **COURSE["model"]), data.train, max_steps=steps,
                       batch_size=COURSE["batch_size"], learning_rate=COURSE["learning_rate"],
                       max_len=COURSE["max_len"], progress=False)
        framework = "torch"
    seed_everything(0)
    runner = Runner(framework, len(data.vocab), COURSE["model"], COURSE["learning_rate"],
                    COURSE["clipnorm"], COURSE["decay_steps"])
    stream = (b for epoch in itertools.count() for b in batches(COURSE, data.train, epoch))
    for _ in range(5):                   # 热身（TensorFlow 要先追踪计算图）
        runner.train_step(*next(stream))
    tokens = 0
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        ids, lengths = next(stream)
        runner.train_step(ids, lengths)
        tokens += int(lengths.sum()) - len(lengths)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return dict(case=case, kept=KEEP_FREED_MEMORY, steps=steps, seconds=seconds, tokens_per_s=tokens / seconds,
                faults_per_step=(after.ru_minflt - before.ru_minflt) / steps, system_share=system / (user + system),
                max_rss_gb=after.ru_maxrss / 2 ** 20)   # Linux 上 ru_maxrss 以 KB 计


def measure_malloc(steps: int, repeats: int) -> dict:
    """每种情形 × glibc 默认 / 留住释放的内存，各在新进程里跑 repeats 次，两种设置轮流先跑。"""
    import os

    runs = []
    for repeat in range(repeats):
        for case in MALLOC_CASES:
            for kept in ((False, True) if repeat % 2 == 0 else (True, False)):
                env = dict(os.environ, COURSE_KEEP_FREED_MEMORY="1" if kept else "0")
                runs.append(dict(child("scripts.bench_malloc", ["--run", "--case", case, "--steps", str(steps)], env),
                                 repeat=repeat))
                r = runs[-1]
                assert r["kept"] == kept, "这台机器上 mallopt 没有生效（不是 glibc？）"
                print(f"{MALLOC_CASES[case]}，{'留住释放的内存' if kept else 'glibc 默认'}：{r['tokens_per_s']:,.0f} 字/秒，"
                      f"每步缺页 {r['faults_per_step']:,.0f} 次，系统态 {r['system_share']:.0%}", flush=True)
    return dict(steps=steps, repeats=repeats, recipe=COURSE, runs=runs)


def malloc_rows(result: dict) -> list[dict]:
    """每种情形一行：两种设置各自的平均，和每次重复的倍数（同一次重复里，留住 / 默认）。"""
    rows = []
    for case, name in MALLOC_CASES.items():
        runs = {(r["repeat"], r["kept"]): r for r in result["runs"] if r["case"] == case}
        ratios = [runs[k, True]["tokens_per_s"] / runs[k, False]["tokens_per_s"] for k in range(result["repeats"])]

        def mean(key, kept):
            return float(np.mean([runs[k, kept][key] for k in range(result["repeats"])]))

        rows.append(dict(case=case, name=name, ratios=ratios, **{
            f"{key}_{label}": mean(key, kept) for key in ("tokens_per_s", "faults_per_step", "system_share", "max_rss_gb")
            for label, kept in (("default", False), ("kept", True))}))
    return rows


MALLOC_HEADER = ["情形", "glibc 默认 字/秒", "留住释放的内存 字/秒", "倍数（各次）", "每步缺页", "系统态 CPU", "峰值内存 GB"]


def malloc_table(result: dict) -> list[list[str]]:
    """内存分配表的各行（malloc_markdown 与 README 的表用它；tests/test_benchmark.py 核对）：两种设置的平均，“默认 → 留住”。"""
    return [[r["name"], f"{r['tokens_per_s_default']:,.0f}", f"{r['tokens_per_s_kept']:,.0f}",
             "、".join(f"{x:.2f}×" for x in r["ratios"]),
             f"{r['faults_per_step_default']:,.0f} → {r['faults_per_step_kept']:,.0f}",
             f"{r['system_share_default']:.0%} → {r['system_share_kept']:.0%}",
             f"{r['max_rss_gb_default']:.2f} → {r['max_rss_gb_kept']:.2f}"] for r in malloc_rows(result)]


def malloc_markdown(result: dict) -> str:
    lines = [f"课程配方训练 {result['steps']} 步（先热身 5 步），每种设置各 {result['repeats']} 次，取平均", "",
             "| " + " | ".join(MALLOC_HEADER) + " |", "|---|" + "---:|" * (len(MALLOC_HEADER) - 1)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in malloc_table(result)])


def main(argv=None) -> None:
    configure_allocator()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=MALLOC_STEPS, help="每种情形计时的训练步数")
    # 以下几个只供 measure_malloc 启动的子进程使用
    parser.add_argument("--run", action="store_true", help="只跑一种情形（--case），结果写到 --out")
    parser.add_argument("--case", choices=list(MALLOC_CASES))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.run:
        result = dict(machine=machine(), **malloc_run(args.case, load_data(), args.steps))
        args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return
    start = time.perf_counter()  # 每种情形在自己的进程里读数据
    report("malloc", "内存分配", malloc_markdown, dict(machine=machine(), **measure_malloc(args.steps, MALLOC_REPEATS)))
    print_elapsed(start)


if __name__ == "__main__":
    main()
