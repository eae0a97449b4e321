"""测试集真诗（五绝、七绝、五律、七律）通过押韵、平仄检查的比例，对照机会基线（同体裁随机换句）。

今读的尺子（十三辙、pypinyin 平仄）与古读的尺子（平水韵、唐诗的平仄标注）并排给出。
用法：python scripts/metre_rates.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils.data import load_poems, split_poems  # noqa: E402
from utils.metrics import is_well_formed, metre_rates, shuffled_lines  # noqa: E402


def main() -> None:
    test = [p.content for p in split_poems(load_poems())[2] if is_well_formed(p.content)]
    rows = {f"测试集真诗（{len(test)} 首）": metre_rates(test),
            "机会基线（同体裁随机换句）": metre_rates(shuffled_lines(test, np.random.default_rng(0)))}
    for name, rates in rows.items():
        print(name)
        for check, rate in rates.items():
            print(f"  {check}：{rate:.1%}")


if __name__ == "__main__":
    main()
