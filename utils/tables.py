"""在笔记本里打印对齐的小表（中文字符按两格宽算）。"""
from __future__ import annotations


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def show_table(header, rows) -> None:
    """第一列左对齐，其余右对齐。"""
    table = [list(map(str, header))] + [[str(x) for x in row] for row in rows]
    widths = [max(_width(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(c + " " * (w - _width(c)) if i == 0 else " " * (w - _width(c)) + c
                        for i, (c, w) in enumerate(zip(r, widths))))
