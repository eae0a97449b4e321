"""基准共用的部分：课程配方、两个框架的统一接口（Runner）、数据与 n-gram 基线、批次、矩阵乘峰值、
按配方训练到胜过基线（race），以及记下机器、保存结果。

四个基准各是一个模块，都在仓库根目录运行：
    python -m scripts.bench_speed      # 速度表（make bench 的前一半）
    python -m scripts.bench_quality    # 达标时间表（make bench 的后一半）
    python -m scripts.bench_levers     # 杠杆表：每个提速办法单独试、再合起来试（make bench-levers）
    python -m scripts.bench_malloc     # 内存分配：glibc 默认与留住释放的内存（utils/allocator.py）对照（make bench-malloc）

矩阵乘峰值在同一次运行里用大矩阵乘（NumPy 与 PyTorch 取较快者）实测。
训练的浮点运算按“前向矩阵乘的 3 倍”估计（反向约为前向的 2 倍，嵌入查表不计）：
    每个位置的前向 FLOPs = Σ_层 2·门数·(输入维 + H)·H  +  输出层
    输出层：不共享嵌入时 2·H·V；共享时 2·H·E（投影）+ 2·E·V；自适应 softmax 见 utils.metrics.forward_flops
位置数按批次实际算过的格子（含补齐）计；“字/秒”只数真实的字（<bos> 之后，含 <eos>）。

结果写到 .cache/bench/*.json（不进 git），并打印成 Markdown 表格；作者测试机上的一份提交在 results/bench/。
COURSE_FAST=1 时一切都很小，只用来检查脚本能跑通，数字没有意义。
"""
from __future__ import annotations

import json
import math
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from utils.data import iterate_batches, pad_sequences, process_dataset
from utils.frameworks import library
from utils.metrics import NGramModel, cluster_shares, forward_flops, matmul_gflops
from utils.settings import CACHE_DIR, FAST, REPO_ROOT, pick, seed_everything
from utils.training import run_training

BENCH_DIR = CACHE_DIR / "bench"

# 课程配方：第 6、7 章的做法——长度相近的诗一批（只补齐到本批最长）、自适应 softmax 的输出层，
# 学习率在 2100 步（第 7 章的完整预算）内按余弦从 3e-3 降到 3e-4，之后保持
ADAPTIVE_CUTOFFS = pick([1000, 3000], [200, 1000])
COURSE = dict(name="课程配方", framework="torch", batching="bucketed", batch_size=64,
              learning_rate=3e-3, decay_steps=2100, clipnorm=5.0, max_len=200,
              model=dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2,
                         adaptive_cutoffs=ADAPTIVE_CUTOFFS))

EVAL_EVERY = pick(45.0, 4.0)          # 每训练这么多秒在验证集上求一次困惑度


# ---------------------------------------------------------------- 两个框架的统一接口

class Runner:
    """第 6 章或第 7 章的模型（utils.frameworks.library 选出那一章的模块）与它的 make_trainer。"""

    def __init__(self, framework: str, vocab_size: int, model: dict, learning_rate: float,
                 clipnorm: float | None, decay_steps: int | None = None, jit_compile: bool = False):
        self.framework, self.config = framework, dict(model)
        self.lib = library(framework)
        self.model = self.lib.build_model(vocab_size, **model)
        # 与两章的 train 相同的 Adam；decay_steps 给定时学习率按余弦降到 1/10
        self.train_step = self.lib.make_trainer(self.model, learning_rate, decay_steps, clipnorm, jit_compile)

    def perplexity(self, seqs) -> float:
        """在 seqs 上的困惑度（<bos> 之后每个字都算，含 <eos>）。"""
        return math.exp(self.lib.evaluate(self.model, seqs))

    def poems(self, vocab, count: int, form: str | None = "五言绝句", seed: int = 0, **rules) -> list[str]:
        """写 count 首诗：各章的 gen。"""
        return [self.lib.gen(self.model, vocab, form=form, seed=seed + i, **rules) for i in range(count)]

    def save(self, vocab, path: Path) -> Path:
        return self.lib.save_checkpoint(self.model, vocab, path)


def training_flops(data, model: dict) -> float:
    """训练时每个位置前向的矩阵乘 FLOPs（公式见 utils.metrics.forward_flops；
    自适应 softmax 的每一簇按训练集里目标落在这簇的比例计）。"""
    cutoffs = model.get("adaptive_cutoffs")
    shares = cluster_shares(data.train, cutoffs, len(data.vocab)) if cutoffs else None
    return forward_flops(len(data.vocab), **model, cluster_shares=shares)


# ---------------------------------------------------------------- 数据与基线

def load_data():
    """全部语料（快速模式只取每份前 300 首），与第 6、7 章同一划分、同一词表。"""
    return process_dataset(limit=pick(None, 300))


def fit_baselines(data, orders=(1, 2, 3, 4)) -> dict:
    """各阶 n-gram 在验证集、测试集上的困惑度；best 是验证集上最好的阶数。"""
    out = {}
    for order in orders:
        start = time.perf_counter()
        model = NGramModel(order, len(data.vocab)).fit(data.train, data.valid)
        out[order] = dict(valid_ppl=model.perplexity(data.valid),
                          test_ppl=model.perplexity(data.test),
                          discounts=[round(float(d), 2) for d in model.discounts],
                          seconds=time.perf_counter() - start)
    best = min(out, key=lambda k: out[k]["valid_ppl"])
    return dict(orders={str(k): v for k, v in out.items()}, best=best, **{
        "best_valid_ppl": out[best]["valid_ppl"], "best_test_ppl": out[best]["test_ppl"]})


def batches(recipe: dict, seqs, epoch: int):
    """一遍训练数据的批次：课程配方按长度分桶；常见配方每首补齐 / 截断到 max_len 后随机分批。"""
    seqs = [s[:recipe["max_len"]] for s in seqs]
    if recipe["batching"] == "bucketed":
        multiple = recipe.get("length_multiple", 1)
        for ids, lengths in iterate_batches(seqs, recipe["batch_size"], shuffle=True, seed=epoch):
            # 长度补到 multiple 的倍数（+1 是 <bos>/<eos> 错开的那一位）：XLA 只需为少数几种长度编译
            extra = -(ids.shape[1] - 1) % multiple
            yield np.pad(ids, ((0, 0), (0, extra))), lengths
        return
    ids, lengths = pad_sequences(seqs, max_len=recipe["max_len"])
    order = np.random.default_rng(epoch).permutation(len(seqs))
    for start in range(0, len(order), recipe["batch_size"]):
        rows = order[start:start + recipe["batch_size"]]
        yield ids[rows], lengths[rows]


# ---------------------------------------------------------------- 峰值

def matmul_peak(n: int = pick(2048, 512)) -> dict:
    """本机 float32 矩阵乘的实测峰值（GFLOP/s）：NumPy 与 PyTorch 各测几次，取较快者。"""
    import torch

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.T.copy()
    result = dict(n=n, numpy=matmul_gflops(np.matmul, a, b),
                  torch=matmul_gflops(torch.matmul, torch.from_numpy(a), torch.from_numpy(b)))
    result["peak"] = max(result["numpy"], result["torch"])
    return result


# ---------------------------------------------------------------- 训练到胜过基线

class Epochs:
    """每遍历一次是下一遍训练数据的批次（batches 的第 0、1、2… 遍）；count 是已经开始的遍数。"""

    def __init__(self, recipe: dict, seqs):
        self.recipe, self.seqs, self.count = recipe, seqs, 0

    def __iter__(self):
        self.count += 1
        return batches(self.recipe, self.seqs, self.count - 1)


def race(recipe: dict, data, target: float, cap_s: float | None, eval_every: float = EVAL_EVERY,
         save_to: Path | None = None, stop_at_target: bool = True, steps: int | None = None) -> dict:
    """按 recipe 训练，每 eval_every 秒（训练时间）求一次验证集困惑度，低于 target 或训练到 cap_s 秒为止
    （stop_at_target=False 时一直训练到 cap_s，记下第一次低于 target 的时刻；给了 steps 就训练到这么多步）。
    循环是两章共用的 utils.training.run_training。"""
    seed_everything(0)
    runner = Runner(recipe["framework"], len(data.vocab), recipe["model"],
                    recipe["learning_rate"], recipe["clipnorm"], recipe["decay_steps"],
                    recipe.get("jit_compile", False))
    positions = 0  # 算过的格子（含补齐），估计矩阵乘的 FLOPs 用

    def train_batch(batch):
        nonlocal positions
        ids, lengths = batch
        positions += ids.shape[0] * (ids.shape[1] - 1)
        return runner.train_step(ids, lengths), int(lengths.sum()) - len(lengths)

    epochs = Epochs(recipe, data.train)
    h = run_training(train_batch, epochs, steps, steps_per_epoch=math.ceil(len(data.train) / recipe["batch_size"]),
                     evaluate=lambda: runner.perplexity(data.valid), eval_every_seconds=eval_every,
                     stop_when=(lambda ppl: ppl < target) if stop_at_target else None,
                     max_train_seconds=cap_s)
    curve = [dict(minutes=t / 60, steps=step, tokens=tokens, valid_ppl=ppl) for step, ppl, t, tokens
             in zip(h["eval_step"], h["valid_ppl"], h["eval_train_seconds"], h["eval_tokens"])]
    crossed = next((point for point in curve if point["valid_ppl"] < target), None)
    result = dict(recipe=recipe, target_valid_ppl=target, cap_minutes=cap_s and cap_s / 60, curve=curve,
                  crossed=crossed is not None, minutes=h["train_seconds"] / 60,
                  crossed_minutes=crossed and crossed["minutes"],
                  steps=h["eval_step"][-1], tokens=h["tokens"], positions=positions,
                  tokens_per_s=h["tokens"] / h["train_seconds"], epochs=epochs.count,
                  valid_ppl=curve[-1]["valid_ppl"], test_ppl=runner.perplexity(data.test))
    if save_to is not None:
        runner.save(data.vocab, save_to)
    return result


# ---------------------------------------------------------------- 入口共用

def choose_torch_threads(data) -> dict:
    """机器与别的程序共用时单线程可能更快：用第 7 章的 choose_num_threads 试一下，两种配方共用结果。"""
    from utils import torch_poems

    probe = torch_poems.build_model(len(data.vocab), **COURSE["model"])
    threads = torch_poems.choose_num_threads(probe, data.train)
    print(f"PyTorch 线程数：试训练 {threads}，选用 {max(threads, key=threads.get)}", flush=True)
    return threads


def machine() -> dict:
    import os

    import torch

    return dict(date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                torch_threads=torch.get_num_threads(),
                load_average=[round(x, 2) for x in os.getloadavg()], fast=FAST)


def save(name: str, result: dict) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"{name}{'_fast' if FAST else ''}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def report(name: str, title: str, markdown, result: dict) -> None:
    """记下结束时的机器状态，存成 .cache/bench/<name>.json，并打印 Markdown 表格。"""
    result["machine_end"] = machine()
    save(name, result)
    print(f"\n## {title}\n\n" + markdown(result), flush=True)


def child(module: str, args: list[str], env: dict | None = None) -> dict:
    """在一个新进程里运行 python -m module（在仓库根目录；它把结果写到 --out），返回那份结果。"""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run([sys.executable, "-m", module, *args, "--out", str(out)], check=True, env=env, cwd=REPO_ROOT)
        return json.loads(out.read_text(encoding="utf-8"))


def print_data(data) -> None:
    """各基准开始时打印数据的大小。"""
    print(f"数据：训练 {len(data.train)} 首，验证 {len(data.valid)} 首，测试 {len(data.test)} 首，"
          f"词表 {len(data.vocab)} 个", flush=True)


def print_elapsed(start: float) -> None:
    """各基准结束时打印共用了多少分钟（start 是开始时 time.perf_counter() 的读数）。"""
    print(f"\n共用时 {(time.perf_counter() - start) / 60:.1f} 分钟", flush=True)
