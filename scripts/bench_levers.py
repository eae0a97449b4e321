"""基准：训练提速的几个办法各值多少（杠杆表，make bench-levers）。

    python -m scripts.bench_levers             # 在仓库根目录运行；--minutes 每种设置训练多少分钟
    python -m scripts.bench_levers --only tf:adaptive tf:adaptive+fused --steps 2100   # 第 6 章的步数，量训练分钟

杠杆表：两个框架各自以换用自适应 softmax 之前的课程配方（共享嵌入）为基线，一次只改一处（线程设置、批大小（学习率按 √ 倍放大）、
自适应 softmax、TensorFlow 的 XLA 编译（批长度补到 16 的倍数，避免每种长度编译一次）、TensorFlow 的 LSTM 融合算子 BlockLSTM），
最后把赢的几处合起来。每种设置在一个新进程里训练 LEVER_MINUTES 分钟（只计训练时间），
报告字/秒、占矩阵乘峰值的比例、第一次胜过 Kneser-Ney 基线（验证集）的时间，和到时的测试集困惑度。
新进程运行的是 python -m scripts.bench_levers --run --framework … --levers …（lever_run），结果写到 --out。

结果写到 .cache/bench/levers.json（不进 git），并打印成 Markdown 表格；作者测试机上的一份提交在 results/bench/。
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from scripts.bench_common import (ADAPTIVE_CUTOFFS, COURSE, child, fit_baselines, load_data, machine, matmul_peak,
                                  print_data, print_elapsed, race, report, training_flops)
from utils.frameworks import FRAMEWORKS, NAMES as FRAMEWORK_NAMES
from utils.settings import configure_allocator, pick

# 杠杆表的基线：换成自适应 softmax 之前的课程配方（输出层与输入共享嵌入）
TIED_COURSE = dict(COURSE, name="基线（共享嵌入的课程配方）",
                   model=dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2, tie_embeddings=True))

LEVER_MINUTES = pick(6.0, 0.1)   # 每种设置训练多久（分钟，只计训练时间）
# 一次只改课程配方的一处；键是命令行里用的名字
LEVERS = {
    "baseline": dict(name=TIED_COURSE["name"]),
    "threads": dict(name="线程：PyTorch 1 个 / TF 层内 2 层间 1"),
    "batch128": dict(name="批 128（学习率 ×√2）", batch_size=128,
                     learning_rate=TIED_COURSE["learning_rate"] * math.sqrt(2),
                     decay_steps=TIED_COURSE["decay_steps"] // 2),
    "adaptive": dict(name="自适应 softmax（1000, 3000）",
                     model=dict(tie_embeddings=False, adaptive_cutoffs=ADAPTIVE_CUTOFFS)),
    "xla": dict(name="XLA 编译（长度补到 16 的倍数）", jit_compile=True, length_multiple=16),
    "fused": dict(name="融合的 LSTM 算子（BlockLSTM）", model=dict(fused_lstm=True)),
}
LEVER_FRAMEWORKS = {"tf": ["threads", "batch128", "adaptive", "xla", "fused"],
                    "torch": ["threads", "batch128", "adaptive"]}


def lever_recipe(framework: str, names) -> dict:
    """杠杆表的基线（共享嵌入的课程配方）加上 names 里的改动（模型设置按键合并）。"""
    recipe = {**TIED_COURSE, "framework": framework, "model": dict(TIED_COURSE["model"])}
    for name in names:
        change = {k: v for k, v in LEVERS[name].items() if k != "name"}
        recipe["model"].update(change.pop("model", {}))
        recipe.update(change)
    recipe["name"] = " + ".join(LEVERS[n]["name"] for n in names) or LEVERS["baseline"]["name"]
    return recipe


def set_threads(framework: str, alternative: bool) -> dict:
    """线程设置：默认（PyTorch 用全部核，TensorFlow 自己决定），或另一种。须在建模型之前调用。"""
    if framework == "torch":
        import torch

        torch.set_num_threads(1 if alternative else torch.get_num_threads())
        return dict(torch_threads=torch.get_num_threads())
    from utils.settings import import_tensorflow

    tf = import_tensorflow()
    if alternative:
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    return dict(intra_op=tf.config.threading.get_intra_op_parallelism_threads(),
                inter_op=tf.config.threading.get_inter_op_parallelism_threads())


def lever_run(framework: str, names: list[str], data, minutes: float, target: float, peak: float,
              steps: int | None = None) -> dict:
    """一种设置（在它自己的进程里）：训练 minutes 分钟（给了 steps 就训练 steps 步，不限时间），
    返回速度、用时、达标时间与测试集困惑度。"""
    threads = set_threads(framework, "threads" in names)
    recipe = lever_recipe(framework, names)
    result = race(recipe, data, target, cap_s=None if steps else 60 * minutes, stop_at_target=False, steps=steps)
    flops = 3 * training_flops(data, recipe["model"]) * result["positions"]
    gflops = flops / (60 * result["minutes"]) / 1e9
    return dict(result, levers=names, threads=threads, train_gflops=gflops, peak_share=gflops / peak)


def measure_levers(data, minutes: float, target: float, only: list[str] | None = None,
                   steps: int | None = None) -> dict:
    """每个框架：基线、每个杠杆单独、再把胜过基线的杠杆合起来；每种设置一个新进程，依次运行。
    only=["tf:adaptive", "tf:adaptive+fused", …] 时只按顺序训练这几种（框架:杠杆+杠杆，空的杠杆即基线）。"""
    peak = matmul_peak()
    runs = []

    def run(framework, names):
        runs.append(child("scripts.bench_levers", ["--run", "--framework", framework, "--levers", ",".join(names),
                           "--minutes", str(minutes), "--target", str(target), "--peak", str(peak["peak"]),
                           *(["--steps", str(steps)] if steps else [])]))
        r = runs[-1]
        print(f"{FRAMEWORK_NAMES[framework]} {r['recipe']['name']}：{r['tokens_per_s']:,.0f} 字/秒，"
              f"测试集困惑度 {r['test_ppl']:.1f}", flush=True)
        return r

    if only:
        for setting in only:
            framework, _, names = setting.partition(":")
            run(framework, [n for n in names.split("+") if n])
        return dict(peak=peak, minutes=minutes, steps=steps, target_valid_ppl=target, runs=runs)
    for framework, levers in LEVER_FRAMEWORKS.items():
        base = run(framework, [])
        wins = [name for name in levers if run(framework, [name])["test_ppl"] < base["test_ppl"]]
        if len(wins) > 1:
            run(framework, wins)
    return dict(peak=peak, minutes=minutes, target_valid_ppl=target, runs=runs)


def levers_markdown(result: dict) -> str:
    budget = (f"{result['steps']} 步" if result.get("steps") else f"{result['minutes']:g} 分钟（只计训练时间）")
    lines = [f"每种设置训练 {budget}；达标线：Kneser-Ney 基线的验证集困惑度 "
             f"{result['target_valid_ppl']:.1f}；矩阵乘峰值 {result['peak']['peak']:.1f} GFLOP/s；"
             f"相对基线：与每个框架的第一行比", "",
             "| 框架 | 设置 | 字/秒 | 相对基线 | 训练 GFLOP/s | 占峰值 | 训练用时（分钟） | 胜过基线用时（分钟） | 测试集困惑度 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    base = {}
    for r in result["runs"]:
        framework = r["recipe"]["framework"]
        base.setdefault(framework, r["tokens_per_s"])
        crossed = f"{r['crossed_minutes']:.1f}" if r["crossed"] else "未达标"
        lines.append(f"| {FRAMEWORK_NAMES[framework]} | {r['recipe']['name']} | {r['tokens_per_s']:,.0f} | "
                     f"{r['tokens_per_s'] / base[framework]:.2f}× | {r['train_gflops']:.1f} | "
                     f"{r['peak_share']:.0%} | {r['minutes']:.1f} | {crossed} | {r['test_ppl']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    configure_allocator()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=LEVER_MINUTES, help="每种设置训练多少分钟")
    parser.add_argument("--only", nargs="+", metavar="框架:杠杆+杠杆",
                        help="只训练这几种设置，如 tf:adaptive tf:adaptive+fused；结果存为 levers-only.json")
    parser.add_argument("--steps", type=int, help="每种设置训练这么多步（不限时间，如第 6 章的 2100 步）")
    # 以下几个只供 measure_levers 启动的子进程使用
    parser.add_argument("--run", action="store_true", help="只训练一种设置（--framework、--levers），结果写到 --out")
    parser.add_argument("--framework", choices=list(FRAMEWORKS))
    parser.add_argument("--levers", default="")
    parser.add_argument("--target", type=float)
    parser.add_argument("--peak", type=float)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.run:
        names = [n for n in args.levers.split(",") if n]
        result = dict(machine=machine(), **lever_run(args.framework, names, load_data(), args.minutes,
                                                     args.target, args.peak, args.steps))
        args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return
    start = time.perf_counter()
    data = load_data()
    print_data(data)
    baselines = fit_baselines(data)
    report("levers-only" if args.only else "levers", "杠杆", levers_markdown, dict(
        machine=machine(), baselines=baselines,
        **measure_levers(data, args.minutes, baselines["best_valid_ppl"], args.only, args.steps)))
    print_elapsed(start)


if __name__ == "__main__":
    main()
