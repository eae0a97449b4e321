"""基准：要训练多久才能胜过字 n-gram 基线（达标时间表；make bench 在 scripts/bench_speed.py 之后运行它）。

    python -m scripts.bench_quality            # 在仓库根目录运行

达标时间表：先在训练集上拟合 1–4 阶字 n-gram（折扣在验证集上调），取验证集困惑度最低者为基线；
再依次训练“课程配方”和“常见配方”，每训练 EVAL_EVERY 秒在验证集上求一次困惑度
（求值的时间不计入训练时间），第一次低于基线的时刻即“达标”；
达标时和结束时各在测试集上求一次困惑度并报告。常见配方最多训练到课程配方达标时间的 3 倍
或 60 分钟（取小者）：到那时还没达标，“至少快 3 倍”即成立，并报告它停在哪里。
常见配方一次改了四处，所以再训练四个对照：课程配方每次只换一处（COMMON_CHANGES），时限相同。
比赛（race）与课程配方（COURSE）在 scripts/bench_common.py，杠杆表也用它们。

结果写到 .cache/bench/quality.json（不进 git），并打印成 Markdown 表格；作者测试机上的一份提交在 results/bench/。
"""
from __future__ import annotations

import argparse
import time

from scripts.bench_common import (BENCH_DIR, COURSE, choose_torch_threads, fit_baselines, load_data, machine,
                                  print_data, print_elapsed, race, report)
from utils.settings import FAST, configure_allocator, pick

# 常见配方：流行的 PyTorch 书中写诗一章的做法——每首诗补齐 / 截断到 125 个编号，不共享嵌入
COMMON = dict(name="常见配方", framework="torch", batching="padded", batch_size=128,
              learning_rate=1e-3, decay_steps=None, clipnorm=None, max_len=125,
              model=dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2,
                         tie_embeddings=False))
# 常见配方与课程配方有四处不同（键相同的设置归为一处）；对照行每次只把其中一处换成常见配方的做法
COMMON_CHANGES = {"批次：补齐 / 截断到 125": ("batching", "max_len"),
                  "输出层：不共享嵌入的全连接": ("model",),
                  "优化：Adam 1e-3 不变、不裁剪": ("learning_rate", "decay_steps", "clipnorm"),
                  "批大小 128": ("batch_size",)}


def one_change_recipe(change: str) -> dict:
    """课程配方只换 COMMON_CHANGES[change] 这一处（换成常见配方的做法）。"""
    return {**COURSE, **{key: COMMON[key] for key in COMMON_CHANGES[change]},
            "name": f"只改{change}"}


MAX_COURSE_SECONDS = pick(1800.0, 20.0)   # 课程配方最多训练 30 分钟
MAX_COMMON_SECONDS = pick(3600.0, 20.0)   # 常见配方最多 60 分钟（且不超过课程配方的 3 倍）


def measure_quality(data, baselines: dict) -> dict:
    """依次比赛：先课程配方，再常见配方，再四个只换一处的对照（时限与常见配方相同）。"""
    target = baselines["best_valid_ppl"]
    course = race(COURSE, data, target, cap_s=MAX_COURSE_SECONDS,
                  save_to=BENCH_DIR / f"course_recipe{'_fast' if FAST else ''}.pt")
    # 课程配方没达标时，常见配方训练同样长的时间，比较两者停在哪里
    cap = min(3 * 60 * course["minutes"] if course["crossed"] else 60 * course["minutes"],
              MAX_COMMON_SECONDS)
    common = race(COMMON, data, target, cap_s=cap)
    one_change = [race(one_change_recipe(change), data, target, cap_s=cap) for change in COMMON_CHANGES]
    return dict(baselines=baselines, course=course, common=common, one_change=one_change)


def quality_markdown(result: dict) -> str:
    b = result["baselines"]
    lines = ["n-gram 基线（训练集拟合，折扣在验证集上调）：", "",
             "| 模型 | 验证集困惑度 | 测试集困惑度 |", "|---|---:|---:|"]
    for order, r in b["orders"].items():
        name = "字频 unigram" if order == "1" else f"Kneser-Ney {order}-gram"
        lines.append(f"| {name} | {r['valid_ppl']:.1f} | {r['test_ppl']:.1f} |")
    lines += ["", f"达标线：最好的基线（{b['best']}-gram）验证集困惑度 {b['best_valid_ppl']:.1f}"
              f"（测试集 {b['best_test_ppl']:.1f}）", "",
              "| 配方 | 达标？ | 训练分钟 | 步数 | 训练字数 | 验证集困惑度 | 测试集困惑度 |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for r in (result["course"], result["common"], *result["one_change"]):
        status = "是" if r["crossed"] else f"否（上限 {r['cap_minutes']:.1f} 分钟）"
        lines.append(f"| {r['recipe']['name']} | {status} | {r['minutes']:.1f} | {r['steps']} | "
                     f"{r['tokens']:,} | {r['valid_ppl']:.1f} | {r['test_ppl']:.1f} |")
    course, common = result["course"], result["common"]
    if course["crossed"]:
        ratio = common["minutes"] / course["minutes"]
        verdict = (f"常见配方用了 {ratio:.1f} 倍的时间达标" if common["crossed"] else
                   f"常见配方训练了 {ratio:.1f} 倍的时间仍未达标")
        lines += ["", verdict + "。"]
        for r in result["one_change"]:
            lines.append(f"{r['recipe']['name']}：{r['minutes'] / course['minutes']:.1f} 倍的时间"
                         f"{'达标' if r['crossed'] else '仍未达标'}，测试集困惑度 {r['test_ppl']:.1f}。")
    return "\n".join(lines)


def main(argv=None) -> None:
    configure_allocator()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    start = time.perf_counter()
    data = load_data()
    print_data(data)
    threads = choose_torch_threads(data)
    report("quality", "达标时间", quality_markdown, dict(
        machine=machine(), torch_thread_trial=threads,
        **measure_quality(data, fit_baselines(data))))
    print_elapsed(start)


if __name__ == "__main__":
    main()
