"""测试集真诗（五绝、七绝、五律、七律）通过押韵、平仄检查的比例，对照打乱基线（同体裁随机换句）。

今读的尺子（十三辙、pypinyin 平仄）与古读的尺子（平水韵；古平仄分别查统计表与韵书表）并排给出。
用法：python -m scripts.metre_rates   （在仓库根目录运行）
"""
from __future__ import annotations

import numpy as np

from utils.data import load_poems, split_poems
from utils.metrics import is_well_formed, metre_rates, shuffled_lines
from utils.tables import show_table


def main() -> None:
    test = [p.content for p in split_poems(load_poems())[2] if is_well_formed(p.content)]
    shuffled = shuffled_lines(test, np.random.default_rng(0))
    columns = {}
    for source, label in (("counted", "统计表"), ("pingshui", "韵书表")):
        columns[f"真诗·{label}"] = metre_rates(test, source)
        columns[f"打乱基线·{label}"] = metre_rates(shuffled, source)
    print(f"测试集 {len(test)} 首绝句律诗；打乱基线：每一句换成同体裁另一首诗的同位置的句子。"
          "押韵与今读两行不依赖古平仄表。")
    show_table(["检查", *columns], [[check] + [f"{rates[check]:.1%}" for rates in columns.values()]
                                    for check in next(iter(columns.values()))])


if __name__ == "__main__":
    main()
