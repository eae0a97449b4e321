"""格律：古平仄表、平水韵表与近体诗的平仄谱。只用标准库；metrics 与 decoding 共用。

两张表在 data/ 下，由 scripts/build_metre.py 生成（make data）：
- tones.tsv：字 -> 平、仄或“中”，由《全唐诗》训练集的逐字平仄标注统计而来；
- pingshui.tsv：平水韵 106 个韵部（上平、下平各 15 个平声韵，上、去、入声 76 个）及其所收的字。
记号：“平”“仄”；“中”是可平可仄（两种读法都常见的多音字，或平仄谱里不论的位置）；“?”是查不到。
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from utils.settings import DATA_DIR

TONES_PATH = DATA_DIR / "tones.tsv"
PINGSHUI_PATH = DATA_DIR / "pingshui.tsv"
# 一个字的少数读法至少占它全部标注的这个比例时记“中”（在验证集上选定，见 data/README.md）
BOTH_SHARE = 0.1
OPPOSITE = {"平": "仄", "仄": "平"}


def _rows(path: Path) -> list[list[str]]:
    """读制表符分隔的表（跳过表头）。"""
    if not path.exists():
        raise FileNotFoundError(f"找不到格律表 {path.name}：请先运行 `make data` 生成它"
                                f" (metre table not found: run `make data`)")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t") for line in lines]


@cache
def tone_table() -> dict[str, str]:
    """字 -> “平”“仄”或“中”。"""
    return {row[0]: row[3] for row in _rows(TONES_PATH)}


@cache
def rhyme_table() -> dict[str, tuple[str, str]]:
    """韵部名（如“下平七阳”“入声六月”）-> (声调 平/上/去/入, 所收的字)，按韵书顺序。"""
    return {name: (tone, chars) for name, tone, chars in _rows(PINGSHUI_PATH)}


@cache
def _ping_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for name, (tone, chars) in rhyme_table().items():
        if tone == "平":
            for ch in chars:
                groups.setdefault(ch, set()).add(name)
    return {ch: frozenset(names) for ch, names in groups.items()}


def classical_tone(ch: str) -> str:
    """一个字的古平仄：“平”“仄”“中”，查不到时“?”。"""
    return tone_table().get(ch, "?")


def ping_groups(ch: str) -> frozenset[str]:
    """一个字所属的平声韵部（可能不止一个，如“行”在七阳与八庚），不是平声字时为空。"""
    return _ping_groups().get(ch, frozenset())


def metre_patterns(chars: int, lines: int) -> dict[str, list[str]]:
    """近体诗的四种平仄谱（平起/仄起 × 首句入韵与否），每句一个字符串。

    只规定节奏点和句末，其余位置是“中”（一三五不论）：
    - 第 2 字：首句定平起或仄起；同一联里对句与出句相反（对），下一联出句与上一联对句相同（粘）；
    - 第 4 字与第 2 字相反，七言第 6 字与第 2 字相同（二四六分明）；
    - 句末：双数句是平（押韵），其余是仄；首句入韵时首句也是平。所以句末为平的句子都押韵。
    例：五绝仄起首句不入韵 = 中仄中平仄，中平中仄平。中平中仄仄，中仄中平平。
    """
    patterns = {}
    for start in "平仄":
        for first_rhymes in (False, True):
            pattern = []
            for i in range(lines):
                two = start if i % 4 in (0, 3) else OPPOSITE[start]
                beats = {1: two, 3: OPPOSITE[two], 5: two}      # 第 2、4、6 字（下标 1、3、5）
                end = "平" if i % 2 == 1 or (i == 0 and first_rhymes) else "仄"
                pattern.append("".join(beats.get(j, "中") for j in range(chars - 1)) + end)
            patterns[f"{start}起首句{'' if first_rhymes else '不'}入韵"] = pattern
    return patterns
