"""命令行写诗：python -m utils.poem_cli [选项]（make poem ARGS="选项" 调用它）。

例：python -m utils.poem_cli --form 七绝 --acrostic 春江花月 --count 2
    python -m utils.poem_cli --form 五律 --metre --rhyme 下平七阳   （合平仄谱，押平水韵“阳”韵）
    python -m utils.poem_cli --title 送别 --form 五律 --metre             （按题作诗）
    python -m utils.poem_cli --title 秋 --plan --form 七绝               （先由题目挑关键词，再按关键词写）
默认用第 12 章随仓库提交的大模型 models/poet.pt 和那一章选出的解码（utils.poet.DEFAULTS），不用先训练；
--framework tf 用第 6 章的主模型（你自己完整运行那一章时存下的检查点，否则仓库里提交的）。
要别的循环单元（--cell gru 等）时，第一次运行先用默认预算训练一个（进度条给出剩余时间），存到 .cache/，以后直接读取。
PyTorch 的检查点用 NumPy 来写（utils/numpy_writer.py），不必 import torch，第一首诗在一秒左右写出来。
输入有误时在 stderr 打印一行中文说明（附英文），以非零状态退出。
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from utils import numpy_writer
from utils.checkpoints import SUFFIXES, CheckpointError
from utils.conditions import split_keywords
from utils.data import FORM_ALIASES, CorpusError, process_dataset
from utils.decoding import DecodingError, PoemPlan
from utils.poet import add_decoding_arguments, decoding_rules, write
from utils import course_models
from utils.frameworks import FRAMEWORKS, library
from utils.course_models import MODEL, TRAIN  # 与第 6、7 章的主模型相同
from utils.settings import CACHE_DIR, REPO_ROOT, configure_allocator

DEFAULT_STEPS = 1200  # 没有检查点时训练的步数（每步 64 首诗，约全部训练集的两遍）


class UsageError(ValueError):
    """命令行参数有误。"""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse 默认只给英文；这里先给中文
        raise UsageError(f"参数有误：{message}；用 --help 查看用法 (bad arguments, see --help)")


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(prog="python -m utils.poem_cli", description="用循环神经网络写唐诗。")
    p.add_argument("--framework", choices=list(FRAMEWORKS), default="torch", help="torch（默认）或 tf")
    p.add_argument("--cell", choices=("simple", "lstm", "gru"),
                   help="循环单元（默认 lstm；读已有检查点时取检查点里的）")
    p.add_argument("--form", choices=list(FORM_ALIASES), help="体裁（保证字数、句数、标点）")
    p.add_argument("--acrostic", help="藏头字，每句第一个字依次是它们")
    p.add_argument("--metre", action="store_true",
                   help="合乎近体诗的平仄谱并押平水韵的平声韵（要同时给 --form）")
    p.add_argument("--rhyme", help="韵部，如 下平七阳（或只写韵目：阳）；要同时给 --metre")
    p.add_argument("--first", default="", help="给定的首字或首句，如 白日依山尽，")
    p.add_argument("--title", help="按题作诗：题目，如 送别（模型要学过按题作诗，见 utils/conditions.py）")
    p.add_argument("--keywords", help="按关键词作诗：几个词，用逗号或空格隔开，如 明月,故乡")
    add_decoding_arguments(p)
    p.add_argument("--count", type=int, default=1, help="写几首（默认 1）")
    p.add_argument("--seed", type=int, help="随机种子（给定后结果可重复）")
    p.add_argument("--checkpoint", type=Path,
                   help="检查点文件；不存在时训练一个存到这里（默认：LSTM 用第 6、7 章的主模型，"
                        "别的单元用 .cache/poem_<框架>_<单元>）")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                   help=f"没有检查点时训练的步数（默认 {DEFAULT_STEPS}）")
    args = p.parse_args(argv)
    if args.count < 1 or args.steps < 1:
        raise UsageError("--count 和 --steps 必须是正整数 (--count and --steps must be positive)")
    return args


def shown(path: Path) -> str:
    """打印用的路径：仓库里的文件只写相对路径。"""
    path = path.resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else path.name


def format_poem(poem: str) -> str:
    """每个句号（或问号、叹号）后换行。"""
    return re.sub("([。？！])(?=.)", r"\1\n", poem)


def default_checkpoint(framework: str, cell: str) -> Path:
    """没给 --checkpoint 时用哪个检查点：你用 make poem 训练过的（.cache/poem_<框架>_<单元>）；
    否则 LSTM 先用仓库里提交的大模型 models/poet.pt（PyTorch，有的话），再用第 6、7 章的主模型（你自己训练的，
    或仓库里提交的）；都没有时是将要训练出来的那个文件。"""
    own = CACHE_DIR / f"poem_{framework}_{cell}{SUFFIXES[framework]}"
    if own.exists() or cell != MODEL["cell"]:
        return own
    poet = course_models.poet_checkpoint() if framework == "torch" else None
    return poet or next((path for path, _ in course_models.checkpoints(framework)), own)


def train_model(lib, data, cell: str, steps: int):
    """没有检查点时：按第 6、7 章主模型的设置（只换循环单元）训练 steps 步。"""
    model = lib.build_model(len(data.vocab), **dict(MODEL, cell=cell))
    if steps >= 50:  # 试线程数要花几步的时间，训练很短时不值得
        lib.choose_num_threads(model, data.train)
    lib.train(model, data.train, max_steps=steps, **TRAIN)
    return model


def train_and_save(args, lib, cell: str, path: Path) -> None:
    """还没有检查点：先检查输入（免得训练完才报错），再训练、存到 path。"""
    if not path.name.endswith(lib.CHECKPOINT_SUFFIX):
        raise UsageError(f"{args.framework} 的检查点文件名须以 {lib.CHECKPOINT_SUFFIX} 结尾"
                         f" (checkpoint name must end with {lib.CHECKPOINT_SUFFIX})")
    data = process_dataset()
    PoemPlan(data.vocab, args.first, args.acrostic, args.form, args.metre, args.rhyme)
    print(f"还没有检查点：先训练一个 {cell} 模型（{args.steps} 步），之后直接读取"
          f" (no checkpoint yet: training one)", file=sys.stderr)
    start = time.perf_counter()
    model = train_model(lib, data, cell, args.steps)
    lib.save_checkpoint(model, data.vocab, path)
    print(f"训练用时 {time.perf_counter() - start:.0f} 秒，检查点已存到 {shown(path)}", file=sys.stderr)


def writer(args, path: Path):
    """(单步函数, 初始状态, 词表)。PyTorch 的检查点用 NumPy 来写（utils.numpy_writer）：不必 import torch，
    第一首诗快一秒多；只有要训练时才用到框架。"""
    if not path.exists():
        train_and_save(args, library(args.framework), args.cell or "lstm", path)
    if args.framework == "torch":
        config, vocab, step = numpy_writer.load(path)
        state = None
    else:
        lib = library(args.framework)
        model, vocab = lib.load_checkpoint(path)
        lib.prepare_to_write(model)
        (step, state), config = lib.writing_step(model), model.config
    if args.cell and config["cell"] != args.cell:
        raise UsageError(f"检查点 {path.name} 用的是 {config['cell']}，不是 --cell {args.cell}"
                         f" (the checkpoint holds a {config['cell']} model)")
    return step, state, vocab


def run(args) -> None:
    rules = decoding_rules(args)
    path = args.checkpoint or default_checkpoint(args.framework, args.cell or "lstm")
    try:
        step, state, vocab = writer(args, path)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    keywords = None if args.keywords is None else split_keywords(args.keywords)
    for i in range(args.count):
        seed = None if args.seed is None else args.seed + i
        poem = write(step, state, vocab, title=args.title, keywords=keywords, prefix=args.first,
                     acrostic=args.acrostic, form=args.form, metre=args.metre, rhyme=args.rhyme, rng=seed, **rules)
        print(("\n" if i else "") + format_poem(poem), flush=True)


def main(argv=None) -> int:
    configure_allocator()
    try:
        run(parse_args(argv))
    except (UsageError, DecodingError, CorpusError, FileNotFoundError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断 (interrupted)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
