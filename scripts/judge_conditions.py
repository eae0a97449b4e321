"""按题作诗用上了题目没有：两项测量（第三项“评判不变差”是 scripts.judge_poems --own-titles）。

    python -m scripts.judge_conditions            # make poem 的默认模型（要是用 --conditions 训练的）

1. 测试集真诗正文的困惑度：给它自己的标题、不给条件、给一首随机的诗的标题（utils.conditions.content_perplexities）；
2. 题材命中率：只用训练集真诗训练的题材分类器（utils.themes），认出“按题材名作诗”的生成诗的比例，与认出留出的
   （验证集与测试集里）那种题材的真诗的比例相比（至少 80 % 才说模型听懂了题目），并给出这个比值的 95 % 自助法区间
   （真诗与生成诗都重抽）；同样多首不给题目的生成诗被认作这种题材的比例是“不听题目”的底线。
   每种题材写 --per-theme 首，四种近体诗轮流，格律与解码用 make poem 的默认
   （make poem ARGS="--title 送别 --form 五律 --metre"）；--guidance、--guided-lines、--plan、--temperature 换掉默认的引导、引导几句、规划与温度。
结果写到 .cache/judge/conditions.json，并打印 Markdown 表格。
"""
from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

from utils import poet, provenance
from utils.conditions import content_perplexities
from utils.data import REGULAR_FORMS, load_poems, split_poems
from utils.frameworks import library
from utils.poem_cli import default_checkpoint
from utils.settings import CACHE_DIR, FAST, REPO_ROOT, configure_allocator, pick
from utils.themes import THEMES, ThemeClassifier, ratio_interval, themes_of

RESULT = CACHE_DIR / "judge" / f"conditions{'_fast' if FAST else ''}.json"
HIT_RATIO = 0.8  # 生成诗的命中率至少是真诗的这么多倍


def conditions_markdown(result: dict) -> str:
    return perplexity_markdown(result) + "\n\n" + themes_markdown(result)


def perplexity_markdown(result: dict) -> str:
    """第 1 项：困惑度（与解码无关，同一个模型的几次运行都一样）。"""
    return "\n".join([f"测试集的 {result['test_poems']:,} 首真诗，正文每字的困惑度：", "",
                      "| 给的条件 | 困惑度 |", "|---|---:|", *(f"| {k} | {v:.1f} |" for k, v in result["perplexity"].items())])


def themes_markdown(result: dict) -> str:
    """第 2 项：题材命中率。"""
    guidance = result["decoding"].get("guidance", 1.0)
    cut = f"（合理性约束 {result['plausible']:g}）" if guidance > 1 and "plausible" in result else ""  # 早先的结果没记下约束
    lines = result["decoding"].get("guided_lines")  # 早先的结果没有这一项：每句都引导
    cut += f"，只引导前 {lines} 句" if guidance > 1 and lines and lines < poet.EVERY_LINE else ""
    rows = [f"题材命中率（每种题材生成 {result['per_theme']} 首，无分类器引导 {guidance:g}{cut}"
            f"{'，先由题目挑关键词（规划）' if result['decoding'].get('plan') else ''}"
            f"{'，温度 %g' % result['decoding']['temperature'] if result['decoding'].get('temperature', 1.0) != 1.0 else ''}"
            f"{'，种子从 %d 起' % result['first_seed'] if result.get('first_seed') else ''}；"
            "真诗是验证集与测试集里标题属于这种题材的诗）：", "",
            "| 题材 | 留出的真诗（首数） | 真诗命中率 | 按题生成的命中率 | 之比（须 ≥ 0.8） | 95 % 区间 | 不给题目的命中率 |",
            "|---|---:|---:|---:|---:|---|---:|"]
    for theme, r in result["themes"].items():
        rows.append(f"| {theme} | {r['real_poems']} | {r['real']:.0%} | {r['generated']:.0%} | {r['ratio']:.2f} "
                    f"| {r['ratio_low']:.2f}–{r['ratio_high']:.2f} | {r['untitled']:.0%} |")
    return "\n".join(rows)


def main(argv=None) -> dict:
    configure_allocator()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", type=Path, help="写诗的 PyTorch 检查点（默认：make poem 的默认模型）")
    p.add_argument("--per-theme", type=int, default=pick(100, 8), help="每种题材生成几首")
    p.add_argument("--guidance", type=float, default=poet.DEFAULTS["guidance"],
                   help="无分类器引导的分量（默认同 make poem）")
    p.add_argument("--guided-lines", type=int, default=poet.DEFAULTS["guided_lines"],
                   help=f"引导只用在前几句（默认同 make poem；{poet.EVERY_LINE} 即每句都引导）")
    p.add_argument("--plan", action=argparse.BooleanOptionalAction, default=poet.DEFAULTS["plan"],
                   help="先由题目挑关键词再写（默认同 make poem）")
    p.add_argument("--temperature", type=float, default=poet.DEFAULTS["temperature"], help="温度（默认同 make poem）")
    p.add_argument("--first-seed", type=int, default=0,
                   help="每种题材第 i 首用种子 first-seed + i（默认 0；换一个数就是同样的设置另写一批诗，看命中率随诗的起伏）")
    args = p.parse_args(argv)
    start = time.perf_counter()
    lib = library("torch")
    path = args.checkpoint or default_checkpoint("torch", "lstm")
    model, vocab = lib.load_checkpoint(path)
    lib.prepare_to_write(model)
    train, valid, test = split_poems(load_poems())
    test, held_out = pick(test, test[:200]), pick(valid + test, (valid + test)[::10])
    perplexity = content_perplexities(lambda seqs: lib.token_nlls(model, seqs), vocab, test)

    decoding = poet.DEFAULTS | dict(guidance=args.guidance, guided_lines=args.guided_lines, plan=args.plan,
                                    temperature=args.temperature)
    classifier = ThemeClassifier([p.content for p in train], [p.title for p in train])
    write = functools.partial(poet.write, *lib.writing_step(model), vocab, metre=True, **decoding)

    def written_to(title: str | None) -> list[str]:  # 第 i 首：四种近体诗轮流，种子 first_seed + i
        return [write(title=title, form=REGULAR_FORMS[i % len(REGULAR_FORMS)], rng=args.first_seed + i)
                for i in range(args.per_theme)]

    untitled = written_to(None)
    themes = {}
    for theme in THEMES:
        real = [p.content for p in held_out if theme in themes_of(p.title)]
        written = written_to(theme)
        hits = dict(real=classifier.recognises(real, theme), generated=classifier.recognises(written, theme))
        rates = {k: float(v.mean()) for k, v in hits.items()}
        low, high = ratio_interval(hits["generated"], hits["real"])
        themes[theme] = rates | dict(real_poems=len(real), ratio=rates["generated"] / max(rates["real"], 1e-9),
                                     ratio_low=low, ratio_high=high,
                                     untitled=classifier.hit_rate(untitled, theme), samples=written[:4])
    shown = path.resolve().relative_to(REPO_ROOT) if path.resolve().is_relative_to(REPO_ROOT) else path
    result = dict(checkpoint=shown.as_posix(), test_poems=len(test), classifier_c=classifier.c, perplexity=perplexity,
                  per_theme=args.per_theme, first_seed=args.first_seed, themes=themes, decoding=decoding,
                  plausible=poet.PLAUSIBLE,
                  machine=provenance.machine(), date=provenance.utc_now(), minutes=(time.perf_counter() - start) / 60,
                  fast=FAST)
    suffix = "".join([*([f"_g{args.guidance:g}"] if args.guidance != poet.DEFAULTS["guidance"] else []),
                      *([f"_l{args.guided_lines}"] if args.guided_lines != poet.DEFAULTS["guided_lines"] else []),
                      *([f"_{'plan' if args.plan else 'noplan'}"] if args.plan != poet.DEFAULTS["plan"] else []),
                      *([f"_t{args.temperature:g}"] if args.temperature != poet.DEFAULTS["temperature"] else []),
                      *([f"_s{args.first_seed}"] if args.first_seed else [])])
    out = RESULT.with_stem(RESULT.stem + suffix)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(conditions_markdown(result))
    print(f"\n共用时 {result['minutes']:.1f} 分钟；结果：{out}")
    return result


if __name__ == "__main__":
    main()
