"""数据并行在一台机器上值不值：1 个进程 × 全部核的线程，对 每核 1 个进程 × 1 个线程（make bench-ddp；第 10 章第 6 节）。

在作者 2 核的测试机上就是 1 个进程 × 2 个线程对 2 个进程 × 1 个线程。两步，都用 torchrun 启动 scripts/train_ddp.py
（--device cpu），第 7 章的模型与设置：
1. 测速（measure_speed）：两种设置轮流启动（A B、B A、A B……，每种 launches 次）；每次启动里，同样的几个全局批
   交替计时照常全归约与不全归约（no_sync），见 train_ddp.bench。每种设置、每种做法都得到 launches × bench_rounds
   个测量；summarize 给出中位数和范围（最小到最大），verdicts 只在两组测量的范围不重叠时才说谁快谁慢。
   1 个进程时照常与不全归约做的是同一件事：它们之差就是测量的噪声。
2. 从头训练（race）：每种设置一次，每隔 --eval-every 步求验证集困惑度，第一次低于 Kneser-Ney 4-gram 的验证集困惑度时
   停下，记下步数和纯训练时间（求值时间不计）。两种设置算的是同样的数，达标的步数应当相同；用时只测了一次，只作参考。
所有运行依次进行，不同时运行。make bench-ddp 把结果写到 .cache/bench/ddp.json，并打印一张表和判定。
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from utils.course_models import EVAL_EVERY
from utils.settings import CACHE_DIR, REPO_ROOT

CORES = os.cpu_count() or 1
CONFIGS = [dict(processes=1, threads=CORES), dict(processes=CORES, threads=1)]
RESULT = CACHE_DIR / "bench" / "ddp.json"


def launch(processes: int, *args: str, workdir: Path, restarts: int = 0) -> subprocess.Popen:
    """在本机（仓库根目录）用 torchrun 启动 processes 个进程跑 python -m scripts.train_ddp（每个进程 核数÷进程数 个线程）；
    续训状态、检查点和每个进程的日志都写在 workdir 里。返回 Popen，调用方用 wait() 等它结束。"""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
           f"--max-restarts={restarts}", "-m", "scripts.train_ddp", "--state", str(workdir / "state.pt"),
           "--checkpoint", str(workdir / "poem.pt"), "--log-dir", str(workdir / "logs"), *args]
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, CORES // processes))}
    return subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait(proc: subprocess.Popen, timeout: float | None = None) -> dict:
    """等 torchrun 结束，返回 0 号进程最后打印的 JSON；失败时带上出错进程自己的报错。

    torchrun 在进程的报错后面还会打印它自己的一大段调用栈（路径越长越多），所以只取带 [rankN] 前缀的行的末尾。"""
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode:
        worker = [line for line in err.splitlines() if line.startswith("[rank")]
        detail = "\n".join(worker[-6:]) if worker else err[-2000:]
        raise RuntimeError(f"torchrun 失败（退出码 {proc.returncode}）：{detail}")
    return json.loads(out.strip().splitlines()[-1])


def torchrun(processes: int, *args: str) -> dict:
    """在临时目录里跑一次（CPU 上），返回 0 号进程的 JSON。"""
    with tempfile.TemporaryDirectory() as tmp:
        return wait(launch(processes, "--device", "cpu", *args, workdir=Path(tmp)))


def target_ppl() -> float:
    """Kneser-Ney 4-gram 的验证集困惑度（与第 8 章相同）。"""
    from utils.data import process_dataset
    from utils.metrics import NGramModel

    data = process_dataset()
    return NGramModel(4, len(data.vocab)).fit(data.train, data.valid).perplexity(data.valid)


def machine() -> dict:
    """测在哪台机器上：时间、核数、负载（过去 1、5、15 分钟）、CPU 有没有 AVX-512。"""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        avx512 = "avx512" in flags
    except OSError:
        avx512 = None
    return dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cores=CORES, avx512=avx512,
                load_average=[round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None)


def measure_speed(launches: int, bench_steps: int, bench_rounds: int, extra=()) -> list[list[dict]]:
    """两种设置轮流启动，每种 launches 次：第 r 次按 A B 或 B A 的顺序（r 为奇数时反过来），
    慢慢变化的干扰两种设置各摊一半。返回每种设置的各次结果（train_ddp.bench 的 JSON）。"""
    speed = [[] for _ in CONFIGS]
    for r in range(launches):
        order = range(len(CONFIGS)) if r % 2 == 0 else reversed(range(len(CONFIGS)))
        for i in order:
            speed[i].append(torchrun(CONFIGS[i]["processes"], "--bench-steps", str(bench_steps),
                                     "--bench-rounds", str(bench_rounds), *extra))
    return speed


def spread(values) -> dict:
    """一组测量的中位数和范围。"""
    return dict(median=statistics.median(values), low=min(values), high=max(values), n=len(values))


def summarize(launches: list[dict]) -> dict:
    """一种设置的全部测量：照常与不全归约时每块的字/秒，以及同一轮相邻两块算出的“全归约占一步”。"""
    sync = [x["tokens"] / s for x in launches for s in x["seconds"]["sync"]]
    no_sync = [x["tokens"] / s for x in launches for s in x["seconds"]["no_sync"]]
    share = [1 - n / s for x in launches for s, n in zip(x["seconds"]["sync"], x["seconds"]["no_sync"])]
    return dict(sync=sync, no_sync=no_sync, share=share)


def compare(a, b) -> int:
    """两组测量：a 的范围整个在 b 之上返回 1，整个在 b 之下返回 -1，范围重叠（分不出）返回 0。"""
    if min(a) > max(b):
        return 1
    if max(a) < min(b):
        return -1
    return 0


def name(run: dict) -> str:
    return f"{run['processes']} 个进程 × {run['threads']} 个线程"


def rate(values) -> str:
    s = spread(values)
    return f"{s['median']:,.0f}（{s['low']:,.0f}–{s['high']:,.0f}）"


def percent(values) -> str:
    s = spread(values)
    return f"{s['median']:.1%}（{s['low']:.1%} 到 {s['high']:.1%}）"


def verdicts(result: dict) -> list[str]:
    """由测量算出的判定，每条一句。规则只有一条：两组测量的范围不重叠，才算有差别。"""
    one, many = result["runs"]
    a, b = summarize(one["speed"]), summarize(many["speed"])
    lines = [f"噪声：{name(one)} 没有别的进程，照常与不全归约做的是同一件事，相邻两块的时间之差占一步的 {percent(a['share'])}"]
    c = compare(b["share"], a["share"])
    lines.append(f"全归约：{name(many)} 照常训练比不全归约多花一步的 {percent(b['share'])}，"
                 + ("范围整个高于噪声：全归约确实花了时间" if c > 0 else
                    "范围与噪声重叠：测不出全归约的代价" if c == 0 else "范围低于噪声：测量有问题"))
    for key, what in (("sync", "照常训练"), ("no_sync", "不全归约时")):
        ratio = statistics.median(b[key]) / statistics.median(a[key]) - 1
        c = compare(b[key], a[key])
        lines.append(f"{what}：{name(many)} 每秒 {rate(b[key])} 字，{name(one)} {rate(a[key])} 字："
                     + (f"前者快 {ratio:.1%}（范围不重叠）" if c > 0 else f"前者慢 {-ratio:.1%}（范围不重叠）" if c < 0
                        else f"中位数差 {ratio:+.1%}，但范围重叠：分不出快慢"))
    return lines


def run(bench_steps: int = 20, launches: int = 3, bench_rounds: int = 2, eval_every: int = EVAL_EVERY,
        limit: int | None = None, race: bool = True) -> dict:
    """先测速（measure_speed），再让两种设置各从头训练一次到胜过 4-gram（race=False 时不训练）。"""
    result = dict(machine=machine(), settings=dict(bench_steps=bench_steps, launches=launches,
                                                   bench_rounds=bench_rounds, eval_every=eval_every, limit=limit))
    extra = ["--limit", str(limit)] if limit else []
    speed = measure_speed(launches, bench_steps, bench_rounds, extra)
    result["runs"] = [dict(config, speed=s, race=None) for config, s in zip(CONFIGS, speed)]
    if race:
        result["target_valid_ppl"] = target = target_ppl()
        for r in result["runs"]:
            r["race"] = torchrun(r["processes"], "--eval-every", str(eval_every), "--target-ppl", str(target), *extra)
    result["load_average_after"] = machine()["load_average"]
    result["gradient_bytes"] = speed[0][0]["gradient_bytes"]
    return result


def rows(result: dict) -> list[list[str]]:
    out = []
    for r in result["runs"]:
        s, race = summarize(r["speed"]), r["race"]
        reached = (f"{race['steps_target']} 步，{race['train_seconds'] / 60:.1f} 分钟" if race and race["steps_target"]
                   else "未达标" if race else "—")
        share = percent(s["share"]) + ("（噪声）" if r["processes"] == 1 else "")
        out.append([name(r), rate(s["sync"]), rate(s["no_sync"]), share, reached])
    return out


HEADER = ["设置", "训练 字/秒：中位数（范围）", "不全归约时 字/秒", "全归约占一步", "胜过 4-gram（只跑一次）"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench-steps", type=int, default=20, help="每块计时的步数")
    p.add_argument("--launches", type=int, default=3, help="每种设置启动几次（两种设置轮流）")
    p.add_argument("--bench-rounds", type=int, default=2, help="每次启动里照常与不全归约各计时几块（交替）")
    p.add_argument("--eval-every", type=int, default=EVAL_EVERY)
    p.add_argument("--no-race", action="store_true", help="只测速，不训练到胜过 4-gram")
    args = p.parse_args(argv)
    from utils.tables import show_table

    result = run(args.bench_steps, args.launches, args.bench_rounds, args.eval_every, race=not args.no_race)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if "target_valid_ppl" in result:
        print(f"达标线：4-gram 验证集困惑度 {result['target_valid_ppl']:.1f}")
    print(f"结果在 {RESULT}")
    show_table(HEADER, rows(result))
    print("\n".join(verdicts(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
