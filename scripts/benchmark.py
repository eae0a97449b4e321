"""基准：训练与生成有多快，要训练多久才能胜过字 n-gram 基线。

    python scripts/benchmark.py            # 速度表 + 达标时间表（make bench）
    python scripts/benchmark.py speed      # 只测速度
    python scripts/benchmark.py quality    # 只测达标时间
    python scripts/benchmark.py levers     # 杠杆表：每个提速办法单独试、再合起来试（make bench-levers）
    python scripts/benchmark.py malloc     # 内存分配：glibc 默认与留住释放的内存（utils/allocator.py）对照（make bench-malloc）

速度表：TensorFlow 与 PyTorch 各自的 SimpleRNN / LSTM / GRU（第 6、7 章的模型代码），
训练每秒处理的字数、生成每秒写几首五绝，以及训练达到本机 float32 矩阵乘峰值的几成。
峰值在同一次运行里用大矩阵乘（NumPy 与 PyTorch 取较快者）实测。
训练的浮点运算按“前向矩阵乘的 3 倍”估计（反向约为前向的 2 倍，嵌入查表不计）：
    每个位置的前向 FLOPs = Σ_层 2·门数·(输入维 + H)·H  +  输出层
    输出层：不共享嵌入时 2·H·V；共享时 2·H·E（投影）+ 2·E·V；自适应 softmax 见 utils.metrics.forward_flops
位置数按批次实际算过的格子（含补齐）计；“字/秒”只数真实的字（<bos> 之后，含 <eos>）。

达标时间表：先在训练集上拟合 1–4 阶字 n-gram（折扣在验证集上调），取验证集困惑度最低者为基线；
再依次训练“课程配方”和“常见配方”，每训练 EVAL_EVERY 秒在验证集上求一次困惑度
（求值的时间不计入训练时间），第一次低于基线的时刻即“达标”；
达标时和结束时各在测试集上求一次困惑度并报告。常见配方最多训练到课程配方达标时间的 3 倍
或 60 分钟（取小者）：到那时还没达标，“至少快 3 倍”即成立，并报告它停在哪里。
常见配方一次改了四处，所以再训练四个对照：课程配方每次只换一处（COMMON_CHANGES），时限相同。

杠杆表：两个框架各自以换用自适应 softmax 之前的课程配方（共享嵌入）为基线，一次只改一处（线程设置、批大小（学习率按 √ 倍放大）、
自适应 softmax、TensorFlow 的 XLA 编译（批长度补到 16 的倍数，避免每种长度编译一次）），
最后把赢的几处合起来。每种设置在一个新进程里训练 LEVER_MINUTES 分钟（只计训练时间），
报告字/秒、占矩阵乘峰值的比例、第一次胜过 Kneser-Ney 基线（验证集）的时间，和到时的测试集困惑度。

内存分配表：同样的课程配方，每种情形在新进程里训练 MALLOC_STEPS 步，一次用 glibc 默认的分配
（COURSE_KEEP_FREED_MEMORY=0），一次留住释放的大块内存（utils/allocator.py，课程的默认），比较字/秒、每步缺页次数、
系统态 CPU 的比例与峰值内存；两种设置轮流先跑，重复 MALLOC_REPEATS 次。

结果写到 .cache/bench/*.json（不进 git），并打印成 Markdown 表格；作者测试机上的一份提交在 results/bench/。
COURSE_FAST=1 时一切都很小，只用来检查脚本能跑通，数字没有意义。
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils.data import iterate_batches, pad_sequences, process_dataset  # noqa: E402
from utils.metrics import NGramModel, cluster_shares, forward_flops, matmul_gflops  # noqa: E402
from utils.settings import CACHE_DIR, FAST, pick, seed_everything  # noqa: E402

BENCH_DIR = CACHE_DIR / "bench"
CELLS = ("simple", "lstm", "gru")
CELL_NAMES = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
FRAMEWORKS = ("tf", "torch")
FRAMEWORK_NAMES = {"tf": "TensorFlow", "torch": "PyTorch"}

# 课程配方：第 6、7 章的做法——长度相近的诗一批（只补齐到本批最长）、自适应 softmax 的输出层，
# 学习率在 2100 步（第 7 章的完整预算）内按余弦从 3e-3 降到 3e-4，之后保持
ADAPTIVE_CUTOFFS = pick([1000, 3000], [200, 1000])
COURSE = dict(name="课程配方", framework="torch", batching="bucketed", batch_size=64,
              learning_rate=3e-3, decay_steps=2100, clipnorm=5.0, max_len=200,
              model=dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2,
                         adaptive_cutoffs=ADAPTIVE_CUTOFFS))
# 杠杆表的基线：换成自适应 softmax 之前的课程配方（输出层与输入共享嵌入）
TIED_COURSE = dict(COURSE, name="基线（共享嵌入的课程配方）",
                   model=dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2, tie_embeddings=True))
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


EVAL_EVERY = pick(45.0, 4.0)          # 每训练这么多秒在验证集上求一次困惑度
MAX_COURSE_SECONDS = pick(1800.0, 20.0)   # 课程配方最多训练 30 分钟
MAX_COMMON_SECONDS = pick(3600.0, 20.0)   # 常见配方最多 60 分钟（且不超过课程配方的 3 倍）


# ---------------------------------------------------------------- 两个框架的统一接口

class Runner:
    """把第 6 章（utils.tf_poems）或第 7 章（utils.torch_poems）的模型包成同一个接口。"""

    def __init__(self, framework: str, vocab_size: int, model: dict, learning_rate: float,
                 clipnorm: float | None, decay_steps: int | None = None, jit_compile: bool = False):
        self.framework, self.config = framework, dict(model)
        if framework == "tf":
            from utils import tf_poems as lib
            import keras

            self.model = lib.build_model(vocab_size, **model)
            if decay_steps:  # 与第 6 章 train 的 cosine_decay 相同
                learning_rate = keras.optimizers.schedules.CosineDecay(
                    learning_rate, decay_steps, alpha=0.1)
            self.optimizer = keras.optimizers.Adam(learning_rate, global_clipnorm=clipnorm)
            self._step = lib.make_train_step(self.model, self.optimizer, jit_compile=jit_compile)
        elif framework == "torch":
            import torch

            from utils import torch_poems as lib

            if jit_compile:
                raise ValueError("jit_compile 只用于 TensorFlow (jit_compile is TensorFlow only)")
            self.model = lib.build_model(vocab_size, **model)
            # eps 与第 7 章的 train 相同（Keras 的默认值）
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=learning_rate, eps=1e-7)
            self.schedule = lib.cosine_schedule(self.optimizer, decay_steps)  # 与 Keras 的 CosineDecay 相同
            self.model.train()
        else:
            raise ValueError(f"未知框架 {framework!r}，可选 {FRAMEWORKS} (unknown framework)")
        self.lib, self.clipnorm = lib, clipnorm

    def train_step(self, ids: np.ndarray, lengths: np.ndarray) -> float:
        if self.framework == "tf":
            import tensorflow as tf

            return float(self._step(tf.constant(ids, tf.int32), tf.constant(lengths, tf.int32)))
        import torch

        loss = self.lib.train_one_step(self.model, self.optimizer, torch.from_numpy(ids).long(),
                                       torch.from_numpy(lengths).long(),
                                       math.inf if self.clipnorm is None else self.clipnorm)
        self.schedule.step()
        return loss

    def perplexity(self, seqs) -> float:
        """在 seqs 上的困惑度（<bos> 之后每个字都算，含 <eos>）。"""
        return math.exp(self.lib.evaluate(self.model, seqs))

    def poems(self, vocab, count: int, form: str | None = "五言绝句", seed: int = 0,
              **rules) -> list[str]:
        """写 count 首诗：各章的单步函数（只建一次）+ utils.decoding.generate。"""
        from utils.decoding import generate

        step = self.lib.make_step_fn(self.model)
        if self.framework == "torch":
            self.model.eval()
        out = [generate(step, self._initial_state(), vocab, form=form, rng=seed + i, **rules)
               for i in range(count)]
        if self.framework == "torch":
            self.model.train()
        return out

    def _initial_state(self):
        """生成时的初始状态：Keras 模型要显式的全零状态，PyTorch 用 None。"""
        return self.model.initial_state(1) if self.framework == "tf" else None

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


# ---------------------------------------------------------------- 速度表

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


# ---------------------------------------------------------------- 达标时间

def race(recipe: dict, data, target: float, cap_s: float, eval_every: float = EVAL_EVERY,
         save_to: Path | None = None, stop_at_target: bool = True) -> dict:
    """按 recipe 训练，每 eval_every 秒（训练时间）求一次验证集困惑度，低于 target 或到 cap_s 为止
    （stop_at_target=False 时一直训练到 cap_s，记下第一次低于 target 的时刻）。"""
    from tqdm import tqdm

    seed_everything(0)
    runner = Runner(recipe["framework"], len(data.vocab), recipe["model"],
                    recipe["learning_rate"], recipe["clipnorm"], recipe["decay_steps"],
                    recipe.get("jit_compile", False))
    clock, tokens, positions, steps, epoch = 0.0, 0, 0, 0, 0
    curve, crossed = [], None
    bar = tqdm(total=round(cap_s), unit="秒", desc=recipe["name"], mininterval=5)
    next_eval = eval_every
    last = time.perf_counter()
    while (crossed is None or not stop_at_target) and clock < cap_s:
        for ids, lengths in batches(recipe, data.train, epoch):
            runner.train_step(ids, lengths)
            tokens += int(lengths.sum()) - len(lengths)
            positions += ids.shape[0] * (ids.shape[1] - 1)
            steps += 1
            now = time.perf_counter()
            clock += now - last
            bar.update(min(round(clock), round(cap_s)) - bar.n)
            last = now
            if clock >= next_eval or clock >= cap_s:
                ppl = runner.perplexity(data.valid)
                curve.append(dict(minutes=clock / 60, steps=steps, tokens=tokens, valid_ppl=ppl))
                bar.set_postfix(验证困惑度=f"{ppl:.1f}")
                next_eval = clock + eval_every
                if ppl < target and crossed is None:
                    crossed = curve[-1]
                last = time.perf_counter()       # 求值的时间不计入训练时间
                if (crossed is not None and stop_at_target) or clock >= cap_s:
                    break
        epoch += 1
    bar.close()
    result = dict(recipe=recipe, target_valid_ppl=target, cap_minutes=cap_s / 60, curve=curve,
                  crossed=crossed is not None, minutes=clock / 60,
                  crossed_minutes=crossed and crossed["minutes"],
                  steps=steps, tokens=tokens, positions=positions, tokens_per_s=tokens / clock,
                  epochs=epoch, valid_ppl=curve[-1]["valid_ppl"],
                  test_ppl=runner.perplexity(data.test))
    if save_to is not None:
        runner.save(data.vocab, save_to)
    return result


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


# ---------------------------------------------------------------- 杠杆表

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
}
LEVER_FRAMEWORKS = {"tf": ["threads", "batch128", "adaptive", "xla"],
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


def lever_run(framework: str, names: list[str], data, minutes: float, target: float, peak: float) -> dict:
    """一种设置（在它自己的进程里）：训练 minutes 分钟，返回速度、达标时间与测试集困惑度。"""
    threads = set_threads(framework, "threads" in names)
    recipe = lever_recipe(framework, names)
    result = race(recipe, data, target, cap_s=60 * minutes, stop_at_target=False)
    flops = 3 * training_flops(data, recipe["model"]) * result["positions"]
    gflops = flops / (60 * result["minutes"]) / 1e9
    return dict(result, levers=names, threads=threads, train_gflops=gflops, peak_share=gflops / peak)


def measure_levers(data, minutes: float, target: float) -> dict:
    """每个框架：基线、每个杠杆单独、再把胜过基线的杠杆合起来；每种设置一个新进程，依次运行。"""
    peak = matmul_peak()
    runs = []

    def run(framework, names):
        runs.append(child(["lever-run", "--framework", framework, "--levers", ",".join(names),
                           "--minutes", str(minutes), "--target", str(target), "--peak", str(peak["peak"])]))
        r = runs[-1]
        print(f"{FRAMEWORK_NAMES[framework]} {r['recipe']['name']}：{r['tokens_per_s']:,.0f} 字/秒，"
              f"测试集困惑度 {r['test_ppl']:.1f}", flush=True)
        return r

    for framework, levers in LEVER_FRAMEWORKS.items():
        base = run(framework, [])
        wins = [name for name in levers if run(framework, [name])["test_ppl"] < base["test_ppl"]]
        if len(wins) > 1:
            run(framework, wins)
    return dict(peak=peak, minutes=minutes, target_valid_ppl=target, runs=runs)


def levers_markdown(result: dict) -> str:
    lines = [f"每种设置训练 {result['minutes']:g} 分钟（只计训练时间）；达标线：Kneser-Ney 基线的验证集困惑度 "
             f"{result['target_valid_ppl']:.1f}；矩阵乘峰值 {result['peak']['peak']:.1f} GFLOP/s", "",
             "| 框架 | 设置 | 字/秒 | 相对基线 | 训练 GFLOP/s | 占峰值 | 胜过基线用时（分钟） | 测试集困惑度 |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    base = {}
    for r in result["runs"]:
        framework = r["recipe"]["framework"]
        base.setdefault(framework, r["tokens_per_s"])
        crossed = f"{r['crossed_minutes']:.1f}" if r["crossed"] else "未达标"
        lines.append(f"| {FRAMEWORK_NAMES[framework]} | {r['recipe']['name']} | {r['tokens_per_s']:,.0f} | "
                     f"{r['tokens_per_s'] / base[framework]:.2f}× | {r['train_gflops']:.1f} | "
                     f"{r['peak_share']:.0%} | {crossed} | {r['test_ppl']:.1f} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- 内存分配

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
                runs.append(dict(child(["malloc-run", "--case", case, "--steps", str(steps)], env), repeat=repeat))
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


# ---------------------------------------------------------------- 入口

def choose_torch_threads(data) -> dict:
    """机器与别的程序共用时单线程可能更快：用第 7 章的 choose_num_threads 试一下，两种配方共用结果。"""
    from utils import torch_poems

    probe = torch_poems.build_model(len(data.vocab), **COURSE["model"])
    return torch_poems.choose_num_threads(probe, data.train)


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


def child(args: list[str], env: dict | None = None) -> dict:
    """在一个新进程里运行本脚本的一个子命令（它把结果写到 --out），返回那份结果。"""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run([sys.executable, __file__, *args, "--out", str(out)], check=True, env=env)
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="?", default="all",
                        choices=["all", "speed", "quality", "levers", "lever-run", "malloc", "malloc-run"])
    parser.add_argument("--seconds", type=float, default=pick(30.0, 2.0),
                        help="速度表里每个模型训练多少秒")
    parser.add_argument("--minutes", type=float, default=LEVER_MINUTES,
                        help="levers：每种设置训练多少分钟")
    parser.add_argument("--steps", type=int, default=MALLOC_STEPS, help="malloc：每种情形计时的训练步数")
    # 以下几个只供 levers、malloc 启动的子进程（lever-run、malloc-run）使用
    parser.add_argument("--framework", choices=FRAMEWORKS)
    parser.add_argument("--case", choices=list(MALLOC_CASES))
    parser.add_argument("--levers", default="")
    parser.add_argument("--target", type=float)
    parser.add_argument("--peak", type=float)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.what == "lever-run":
        names = [n for n in args.levers.split(",") if n]
        result = dict(machine=machine(), **lever_run(args.framework, names, load_data(), args.minutes,
                                                     args.target, args.peak))
        args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return
    if args.what == "malloc-run":
        result = dict(machine=machine(), **malloc_run(args.case, load_data(), args.steps))
        args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return
    start = time.perf_counter()
    if args.what == "malloc":  # 每种情形在自己的进程里读数据
        report("malloc", "内存分配", malloc_markdown, dict(machine=machine(), **measure_malloc(args.steps, MALLOC_REPEATS)))
        print(f"\n共用时 {(time.perf_counter() - start) / 60:.1f} 分钟", flush=True)
        return
    data = load_data()
    print(f"数据：训练 {len(data.train)} 首，验证 {len(data.valid)} 首，测试 {len(data.test)} 首，"
          f"词表 {len(data.vocab)} 个", flush=True)
    if args.what == "levers":
        baselines = fit_baselines(data)
        report("levers", "杠杆", levers_markdown, dict(
            machine=machine(), baselines=baselines,
            **measure_levers(data, args.minutes, baselines["best_valid_ppl"])))
    else:
        threads = choose_torch_threads(data)
        print(f"PyTorch 线程数：试训练 {threads}，选用 {max(threads, key=threads.get)}", flush=True)
        if args.what in ("all", "speed"):
            report("speed", "速度", speed_markdown, dict(
                machine=machine(), torch_thread_trial=threads,
                **measure_speed(data, args.seconds, pick(20, 2))))
        if args.what in ("all", "quality"):
            report("quality", "达标时间", quality_markdown, dict(
                machine=machine(), torch_thread_trial=threads,
                **measure_quality(data, fit_baselines(data))))
    print(f"\n共用时 {(time.perf_counter() - start) / 60:.1f} 分钟", flush=True)


if __name__ == "__main__":
    main()
