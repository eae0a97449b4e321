"""评判一个模型在某种解码设置下写的诗像不像唐诗（utils.judge；第 12 章用同样的函数）。

    python -m scripts.judge_poems                              # make poem 的默认模型与默认设置，四种体裁
    python -m scripts.judge_poems --temperature 1.0 --top-k 0  # 换一种解码设置
    python -m scripts.judge_poems --no-repeat-bigrams --candidates 4  # 不重复二字组；每首写 4 首候选挑一首（utils.poet）

每首留出的真诗（验证集与测试集里四种近体诗，见 utils.judge.held_out_real）配一首同体裁的生成诗（--metre 时合平仄、押平水韵，与
make poem --form X --metre 相同）。打分模型：训练集上拟合的 Kneser-Ney 4-gram，和第 6 章的 LSTM
（TensorFlow，另外训练的；生成诗的模型不能是它）。结果写到 .cache/judge/<--name>.json，并打印 Markdown 表格。
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from utils import course_models, poet, provenance
from utils.conditions import own_title
from utils.data import load_poems, process_dataset, split_poems
from utils.frameworks import library
from utils.judge import held_out_real, judge, judge_markdown, matched, scorer
from utils.metrics import NGramModel, line_set
from utils.poem_cli import default_checkpoint
from utils.settings import CACHE_DIR, FAST, REPO_ROOT, configure_allocator, pick

JUDGE_DIR = CACHE_DIR / "judge"
LIMIT = pick(None, 60)  # 快速模式只随机取 60 首真诗
RNN_SCORER = "第 6 章的 LSTM（TensorFlow）"
NGRAM_SCORER = "Kneser-Ney 4-gram"


def load_scorers(data) -> dict:
    """两个打分模型：训练集上的 KN 4-gram（折扣在验证集上调），第 6 章的主模型。"""
    ngram = NGramModel(4, len(data.vocab)).fit(data.train, data.valid)
    tf_model, _ = course_models.load_or_train("tf", data)
    return {NGRAM_SCORER: scorer(ngram.token_nlls, data.vocab),
            RNN_SCORER: scorer(lambda seqs: library("tf").token_nlls(tf_model, seqs), data.vocab)}


def main(argv=None, scorers: dict | None = None) -> dict:
    """评判一种设置，返回结果（也写进 .cache/judge/）。scorers：已经准备好的 load_scorers(data)（连着评判几种设置时
    只准备一次）。"""
    configure_allocator()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, help="写诗的 PyTorch 检查点（默认：make poem 的默认模型）")
    poet.add_decoding_arguments(p)
    p.add_argument("--no-metre", action="store_true", help="不加格律约束（默认与 make poem --metre 相同）")
    p.add_argument("--candidates", type=int, default=1,
                   help="每首写这么多首候选，挑写诗模型（和 --reverse-checkpoint）给的平均负对数似然最小的一首")
    p.add_argument("--reverse-checkpoint", type=Path, help="从右往左读的模型（train_ddp --reverse），给候选打分")
    p.add_argument("--own-titles", action="store_true",
                   help="按题作诗：每首生成的诗以它所配的那首真诗的标题为题（前 12 个字，词表外的字去掉）")
    p.add_argument("--limit", type=int, default=LIMIT, help="只随机取这么多首真诗（默认全部）")
    p.add_argument("--name", default="default", help="结果文件名")
    p.add_argument("--first-seed", type=int, default=0,
                   help="第 i 首生成的诗用种子 first-seed + i（默认 0；换一个数就是同样的设置另写一批诗，看评判随诗的起伏）")
    args = p.parse_args(argv)
    rules = poet.decoding_rules(args)

    start = time.perf_counter()
    data = process_dataset()
    lib = library("torch")
    path = args.checkpoint or default_checkpoint("torch", "lstm")
    model, vocab = lib.load_checkpoint(path)
    real, copy_reference = held_out_real(vocab)
    if args.limit:  # 随机取 limit 首（语料按作者排列，取前几首会偏向前面的几位作者）
        real = [real[i] for i in sorted(np.random.default_rng(0).permutation(len(real))[:args.limit])]
    scorers = scorers or load_scorers(data)
    lib.prepare_to_write(model)

    rerankers = [scorer(lambda seqs: lib.token_nlls(model, seqs), vocab)]
    if args.reverse_checkpoint:
        backward, backward_vocab = lib.load_checkpoint(args.reverse_checkpoint)
        if vocab.id2word[:len(backward_vocab)] != backward_vocab.id2word:  # 写诗的词表可以在后面多两个分隔符
            raise SystemExit(f"从右往左读的模型 {args.reverse_checkpoint} 的词表与写诗的模型不同"
                             " (the right-to-left model has another vocabulary)")
        lib.prepare_to_write(backward)
        reverse = scorer(lambda seqs: lib.token_nlls(backward, seqs), vocab)
        rerankers.append(lambda texts: reverse([poet.reversed_poem(t) for t in texts]))

    titles = {p.content: own_title(vocab, p.title) for p in load_poems()} if args.own_titles else {}

    def write(form, i):  # matched 给第 i 首真诗配的诗
        rng = np.random.default_rng(args.first_seed + i)  # 一首候选时与 make poem --seed 写的相同
        title = titles[real[i]] if args.own_titles else None
        candidates = [poet.write(*lib.writing_step(model), vocab, title=title, form=form, metre=not args.no_metre,
                                 rng=rng, **rules) for _ in range(args.candidates)]
        return candidates[poet.rerank(candidates, rerankers) if len(candidates) > 1 else 0]

    generated = matched(write, real)
    known = line_set(p.content for p in split_poems(load_poems())[0])
    result = judge(generated, real, scorers, RNN_SCORER, known, copy_reference)
    shown = path.resolve().relative_to(REPO_ROOT) if path.resolve().is_relative_to(REPO_ROOT) else path
    result.update(settings=vars(args) | {"checkpoint": shown.as_posix(), "plausible": poet.PLAUSIBLE},
                  machine=provenance.machine(), date=provenance.utc_now(), minutes=(time.perf_counter() - start) / 60,
                  fast=FAST, samples=generated[:8])
    JUDGE_DIR.mkdir(parents=True, exist_ok=True)
    out = JUDGE_DIR / f"{args.name}{'_fast' if FAST else ''}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(judge_markdown(result))
    print(f"\n共用时 {result['minutes']:.1f} 分钟；结果：{out}")
    return result


if __name__ == "__main__":
    main()
