"""数据并行在一台机器上值不值：1 个进程 × 2 个线程，对 2 个进程 × 1 个线程（make bench-ddp；第 10 章）。

每种设置用 torchrun 启动 scripts/train_ddp.py 两次：
1. --bench-steps：同样的几个全局批，照常全归约计时一次、不做全归约（no_sync）再计时一次，
   得出每秒训练的字数，以及全归约多花的时间占一步的几成；
2. 从头训练第 7 章的模型（同样的全局批、同样的学习率计划），每隔 --eval-every 步求验证集困惑度，
   第一次低于 Kneser-Ney 4-gram 的验证集困惑度时停下，记下纯训练时间（求值时间不计）。
两种设置依次运行，不同时运行。make bench-ddp 把结果写到 .cache/bench/ddp.json，并打印一张表。
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils.settings import CACHE_DIR  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "train_ddp.py"
CORES = os.cpu_count() or 1
CONFIGS = [dict(processes=1, threads=CORES), dict(processes=CORES, threads=1)]
RESULT = CACHE_DIR / "bench" / "ddp.json"


def launch(processes: int, *args: str, workdir: Path, restarts: int = 0) -> subprocess.Popen:
    """在本机用 torchrun 启动 processes 个进程跑 train_ddp.py（每个进程 核数÷进程数 个线程）；
    续训状态、检查点和每个进程的日志都写在 workdir 里。返回 Popen，调用方用 wait() 等它结束。"""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
           f"--max-restarts={restarts}", str(SCRIPT), "--state", str(workdir / "state.pt"),
           "--checkpoint", str(workdir / "poem.pt"), "--log-dir", str(workdir / "logs"), *args]
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, CORES // processes))}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait(proc: subprocess.Popen, timeout: float | None = None) -> dict:
    """等 torchrun 结束，返回 0 号进程最后打印的 JSON；失败时带上它的错误输出。"""
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode:
        raise RuntimeError(f"torchrun 失败（退出码 {proc.returncode}）：{err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def torchrun(processes: int, *args: str) -> dict:
    """在临时目录里跑一次，返回 0 号进程的 JSON。"""
    with tempfile.TemporaryDirectory() as tmp:
        return wait(launch(processes, *args, workdir=Path(tmp)))


def target_ppl() -> float:
    """Kneser-Ney 4-gram 的验证集困惑度（与第 8 章相同）。"""
    from utils.data import process_dataset
    from utils.metrics import NGramModel

    data = process_dataset()
    return NGramModel(4, len(data.vocab)).fit(data.train, data.valid).perplexity(data.valid)


def run(bench_steps: int = 30, eval_every: int = 150, limit: int | None = None, race: bool = True) -> dict:
    target = target_ppl()
    result = dict(machine=dict(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cores=CORES,
                               load_average=[round(x, 2) for x in os.getloadavg()]),
                  target_valid_ppl=target, runs=[])
    extra = ["--limit", str(limit)] if limit else []
    for config in CONFIGS:
        speed = torchrun(config["processes"], "--bench-steps", str(bench_steps), *extra)
        reached = (torchrun(config["processes"], "--eval-every", str(eval_every), "--target-ppl", str(target), *extra)
                   if race else None)
        result["runs"].append(dict(config, speed=speed, race=reached))
    return result


def rows(result: dict) -> list[list[str]]:
    out = []
    for r in result["runs"]:
        s, race = r["speed"], r["race"]
        reached = (f"{race['steps_target']} 步，{race['train_seconds'] / 60:.1f} 分钟" if race and race["steps_target"]
                   else "未达标" if race else "—")
        out.append([f"{r['processes']} 个进程 × {r['threads']} 个线程", f"{s['tokens_per_s']:,.0f}",
                    f"{s['tokens_per_s_no_sync']:,.0f}",
                    f"{s['allreduce_share']:.0%}" if r["processes"] > 1 else "—（没有别的进程）", reached])
    return out


HEADER = ["设置", "训练 字/秒", "不全归约时 字/秒", "全归约占一步", "胜过 4-gram"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench-steps", type=int, default=30)
    p.add_argument("--eval-every", type=int, default=150)
    p.add_argument("--no-race", action="store_true", help="只测速，不训练到胜过 4-gram")
    args = p.parse_args(argv)
    from utils.tables import show_table

    result = run(args.bench_steps, args.eval_every, race=not args.no_race)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"达标线：4-gram 验证集困惑度 {result['target_valid_ppl']:.1f}；结果在 {RESULT}")
    show_table(HEADER, rows(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
