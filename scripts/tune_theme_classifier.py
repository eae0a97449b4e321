"""选题材分类器（utils.themes）的正则化强度 C：只用训练集的真诗，五折交叉验证每种题材、每个 C 的平衡准确率。

    python -m scripts.tune_theme_classifier      # 2 核 AMD EPYC 上 9 分钟；结果写到 results/conditions/theme_classifier.json

平衡准确率（两类各自认对的比例的平均）与分类器按样本数加权的训练目标一致，也不偏向诗多的题材。
八种题材的平均最高的 C 就是 utils.themes.C（tests/test_themes.py 核对两者一致）。不看任何生成的诗。
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from utils import provenance
from utils.data import load_poems, split_poems
from utils.settings import REPO_ROOT
from utils.themes import best_c, cross_validate

RESULT = REPO_ROOT / "results" / "conditions" / "theme_classifier.json"
FOLDS = 5


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=RESULT)
    args = p.parse_args(argv)
    start = time.perf_counter()
    train, _, _ = split_poems(load_poems())
    scores = cross_validate([q.content for q in train], [q.title for q in train], folds=FOLDS)
    result = dict(training_poems=len(train), folds=FOLDS, scores={t: {f"{c:g}": s for c, s in by_c.items()}
                                                               for t, by_c in scores.items()},
                  best_c=best_c(scores), machine=provenance.machine(), code=provenance.code_version(),
                  date=provenance.utc_now(), minutes=(time.perf_counter() - start) / 60)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    grid = list(next(iter(result["scores"].values())))
    print("| 题材 | " + " | ".join(f"C={c}" for c in grid) + " |")
    print("|---|" + "---:|" * len(grid))
    for theme, by_c in result["scores"].items():
        print(f"| {theme} | " + " | ".join(f"{by_c[c]:.3f}" for c in grid) + " |")
    print(f"\n平均最高的 C = {result['best_c']:g}；共用时 {result['minutes']:.1f} 分钟；结果：{args.out}")
    return result


if __name__ == "__main__":
    main()
