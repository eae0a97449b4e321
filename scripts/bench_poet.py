"""基准：数据、模型大小和训练时间各买来多少（第 12 章的“数据 / 大小 / 时间”表；选随仓库提交的大模型用）。

    python -m scripts.bench_poet                         # 全部设置，每种训练 --minutes 分钟
    python -m scripts.bench_poet --only song song-2x512  # 只跑这几种

每种设置一次只改一处（SETTINGS；基准是单层 512 维的 LSTM、dropout 0.1、只用唐诗），都用
scripts/train_ddp.py（1 个进程，可续训）训练同样多的分钟（只计训练时间）：先试训练几步量出字/秒，
把余弦退火的步数定成正好用完这些分钟，每训练 1/6 在验证集上求一次困惑度。之后在唐诗的测试集
（从没训练过）上求困惑度。宋诗（--song）要先运行 python -m scripts.build_poems --song；--conditions 见 utils/conditions.py
（困惑度仍按不给条件的唐诗算，与别的设置可比）。
所有运行依次进行。结果写到 .cache/bench/poet.json（已有的设置不重跑，删掉文件重来），并打印 Markdown 表格。
"""
from __future__ import annotations

import argparse
import json
import math
import time

from scripts.bench_common import BENCH_DIR, machine, save
from scripts.bench_ddp import launch, wait
from utils.settings import CACHE_DIR, FAST, configure_allocator, pick

MINUTES = pick(20.0, 0.2)
BASE = dict(cell="lstm", embed_dim=128, hidden_dim=512, num_layers=1, dropout=0.1, adaptive_cutoffs=[1000, 3000])
# 名字 -> (说明, 模型设置的改动, train_ddp 的其他参数)
SETTINGS = {
    "base": ("基准：单层 LSTM 512 维，dropout 0.1，只用唐诗", {}, []),
    "song": ("加宋诗", {}, ["--song"]),
    "song-tang3": ("加宋诗，唐诗算三遍", {}, ["--song", "--tang-repeats", "3"]),
    "song-conditions": ("加宋诗，诗前按比例加标题或关键词（按题作诗）", {}, ["--song", "--conditions"]),
    "song-tang3-conditions": ("加宋诗，唐诗算三遍，按题作诗：条件当前缀（大模型的做法）", {},
                              ["--song", "--tang-repeats", "3", "--conditions"]),
    "song-tang3-title-state": ("同上，但条件编码进初始状态（utils.title_state）", {},
                               ["--song", "--tang-repeats", "3", "--conditions", "--title-state"]),
    "song-2x512": ("加宋诗，两层", dict(num_layers=2), ["--song"]),
    "song-1024": ("加宋诗，1024 维", dict(hidden_dim=1024), ["--song"]),
    "song-256": ("加宋诗，256 维", dict(hidden_dim=256), ["--song"]),
    "song-dropout0.3": ("加宋诗，dropout 0.3", dict(dropout=0.3), ["--song"]),
}
RESULT = BENCH_DIR / f"poet{'_fast' if FAST else ''}.json"


def train_args(model: dict, extra: list[str]) -> list[str]:
    return ["--device", "cpu", "--model", json.dumps(model), *extra, *(["--limit", "300"] if FAST else [])]


def seconds_per_step(model: dict, extra: list[str], workdir) -> float:
    """先热身 3 步，再计时 20 步（train_ddp 的测速模式）得到字/秒，按整个训练集平均每步的字数换算成每步秒数
    （计时的那几批可能比平均的长或短）。"""
    out = wait(launch(1, *train_args(model, extra), "--bench-steps", pick("20", "2"), "--bench-rounds", "1",
                      workdir=workdir))
    return out["mean_step_tokens"] * out["seconds"]["sync"][0] / out["tokens"]


def run_setting(name: str, minutes: float) -> dict:
    from utils import title_state, torch_poems
    from utils.conditions import content_perplexities
    from utils.data import load_poems, process_dataset, split_poems

    what, change, extra = SETTINGS[name]
    model = BASE | change
    workdir = CACHE_DIR / "poet" / name
    workdir.mkdir(parents=True, exist_ok=True)
    per_step = seconds_per_step(model, extra, workdir)
    steps = max(6, int(60 * minutes / per_step))
    start = time.perf_counter()
    out = wait(launch(1, *train_args(model, extra), "--steps", str(steps), "--eval-every", str(math.ceil(steps / 6)),
                      "--max-minutes", str(1.1 * minutes), workdir=workdir))
    data = process_dataset()
    trained, vocab = torch_poems.load_checkpoint(workdir / "poem.pt")
    result = dict(name=name, what=what, model=model, train_args=extra, seconds_per_step=per_step, planned_steps=steps,
                  steps=out["steps"], train_minutes=out["train_seconds"] / 60, tokens=out["tokens"],
                  wall_minutes=(time.perf_counter() - start) / 60, evals=out["evals"],
                  parameters=torch_poems.count_parameters(trained),
                  valid_ppl=math.exp(torch_poems.evaluate(trained, data.valid)),
                  test_ppl=math.exp(torch_poems.evaluate(trained, data.test)))
    if "--conditions" in extra:  # 按题作诗用上了题目没有：测试集正文的困惑度，给自己的 / 不给 / 随机的标题
        net = title_state.load(workdir / "poem.pt")[0] if "--title-state" in extra else None

        def nlls(seqs):
            return title_state.token_nlls(net, seqs) if net else torch_poems.token_nlls(trained, seqs)

        result["content_perplexities"] = content_perplexities(nlls, vocab, split_poems(load_poems())[2])
    return result


def poet_markdown(result: dict) -> str:
    lines = [f"每种设置训练约 {result['minutes']:g} 分钟（只计训练时间；余弦退火的步数按试训练的速度定）；"
             "困惑度都在唐诗的验证集、测试集上（宋诗只加进训练集）", "",
             "| 设置 | 参数 | 步数 | 训练分钟 | 字/秒 | 验证集困惑度 | 测试集困惑度 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["runs"].values():
        lines.append(f"| {r['what']} | {r['parameters'] / 1e6:.1f} M | {r['steps']:,} | {r['train_minutes']:.1f} | "
                     f"{r['tokens'] / (60 * r['train_minutes']):,.0f} | {r['valid_ppl']:.1f} | {r['test_ppl']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    configure_allocator()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=MINUTES, help="每种设置训练多少分钟")
    p.add_argument("--only", nargs="+", choices=list(SETTINGS), help="只跑这几种设置")
    args = p.parse_args(argv)
    result = json.loads(RESULT.read_text(encoding="utf-8")) if RESULT.exists() else dict(
        minutes=args.minutes, machine=machine(), runs={})
    if result["minutes"] != args.minutes:
        raise SystemExit(f"{RESULT} 里的设置各训练 {result['minutes']} 分钟，与 --minutes {args.minutes} 不同：删掉它再跑")
    for name in args.only or SETTINGS:
        if name in result["runs"]:
            continue
        print(f"== {SETTINGS[name][0]}", flush=True)
        result["runs"][name] = run_setting(name, args.minutes)
        result["machine_end"] = machine()
        save("poet", result)
        r = result["runs"][name]
        print(f"   {r['steps']} 步，{r['train_minutes']:.1f} 分钟，测试集困惑度 {r['test_ppl']:.1f}", flush=True)
    print(poet_markdown(result))


if __name__ == "__main__":
    main()
