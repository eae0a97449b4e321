"""格律：古平仄表、平水韵表、韵脚的读法与近体诗的平仄谱。只用标准库；metrics 与 decoding 共用。

三张表在 data/ 下，由 scripts/build_metre.py 生成（make data），来源与处理见 data/README.md：
- tones.tsv：字 -> 平、仄或“中”，由《全唐诗》训练集的逐字平仄标注统计而来（“统计表”）。
  这些标注是 chinese-poetry 项目自动生成的，项目维护者说其中有错（chinese-poetry 第 149 号 issue），
  所以统计表只是估计；
- pingshui.tsv：平水韵 106 个韵部（上平、下平各 15 个平声韵，上、去、入声 76 个）及其所收的字。
  它也给出每个字的古平仄（“韵书表”）：只在平声韵部里是平，只在上、去、入声韵部里是仄，两边都有是“中”；
- rhyme_uses.tsv：多音字（韵书里不止一个韵部的字）在训练集诗的韵脚上实际押了哪个平声韵部、押了几次，
  用来判断韵脚上的多音字按哪种读法算（见 rhyme_groups）。
记号：“平”“仄”；“中”是可平可仄（两种读法都常见的多音字，或平仄谱里不论的位置）；“?”是查不到。
"""
from __future__ import annotations

from functools import cache
from itertools import product
from pathlib import Path

from utils.settings import DATA_DIR

TONES_PATH = DATA_DIR / "tones.tsv"
PINGSHUI_PATH = DATA_DIR / "pingshui.tsv"
RHYME_USES_PATH = DATA_DIR / "rhyme_uses.tsv"
# 一个字的少数读法至少占它全部标注的这个比例时记“中”（在验证集上选定，见 data/README.md）
BOTH_SHARE = 0.1
# 多音字的一种平声读法，在训练集里押这个韵的次数至少占它出现在韵脚上次数的这个比例，才算它的主要读法
MAIN_SHARE = 0.1
OPPOSITE = {"平": "仄", "仄": "平"}
# 古平仄的两个来源：统计表（tones.tsv）与韵书表（由 pingshui.tsv 推出）
TONE_SOURCES = ("counted", "pingshui")


def _rows(path: Path) -> list[list[str]]:
    """读制表符分隔的表（跳过表头）。"""
    if not path.exists():
        raise FileNotFoundError(f"找不到格律表 {path.name}：请先运行 `make data` 生成它"
                                f" (metre table not found: run `make data`)")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t") for line in lines]


@cache
def tone_table() -> dict[str, str]:
    """统计表：字 -> “平”“仄”或“中”。"""
    return {row[0]: row[3] for row in _rows(TONES_PATH)}


@cache
def rhyme_table() -> dict[str, tuple[str, str]]:
    """韵部名（如“下平七阳”“入声六月”）-> (声调 平/上/去/入, 所收的字)，按韵书顺序。"""
    return {name: (tone, chars) for name, tone, chars in _rows(PINGSHUI_PATH)}


@cache
def pingshui_tone_table() -> dict[str, str]:
    """韵书表：字 -> 只在平声韵部里“平”，只在上、去、入声韵部里“仄”，两边都有“中”（多音字）。"""
    sides: dict[str, set[str]] = {}
    for tone, chars in rhyme_table().values():
        for ch in chars:
            sides.setdefault(ch, set()).add("平" if tone == "平" else "仄")
    return {ch: "中" if len(s) == 2 else next(iter(s)) for ch, s in sides.items()}


def classical_tone(ch: str, source: str = "counted") -> str:
    """一个字的古平仄：“平”“仄”“中”，查不到时“?”。source 是 "counted"（统计表）或 "pingshui"（韵书表）。"""
    if source not in TONE_SOURCES:
        raise ValueError(f"未知的平仄来源 {source!r}；可选 {TONE_SOURCES} (unknown tone source)")
    table = tone_table() if source == "counted" else pingshui_tone_table()
    return table.get(ch, "?")


@cache
def _ping_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for name, (tone, chars) in rhyme_table().items():
        if tone == "平":
            for ch in chars:
                groups.setdefault(ch, set()).add(name)
    return {ch: frozenset(names) for ch, names in groups.items()}


def ping_groups(ch: str) -> frozenset[str]:
    """韵书里收了这个字的平声韵部（可能不止一个，如“行”在七阳与八庚），没有时为空。"""
    return _ping_groups().get(ch, frozenset())


@cache
def rhyme_uses() -> dict[str, tuple[int, dict[str, int]]]:
    """多音字 -> (在训练集诗的韵脚上出现的次数, {平声韵部: 可判定押这个韵部的次数})。"""
    out: dict[str, tuple[int, dict[str, int]]] = {}
    for ch, group, used, feet in _rows(RHYME_USES_PATH):
        out.setdefault(ch, (int(feet), {}))[1][group] = int(used)
    return out


@cache
def _rhyme_groups() -> dict[str, frozenset[str]]:
    out = {}
    for ch, groups in _ping_groups().items():
        if ch in rhyme_uses():          # 多音字：只留主要读法
            feet, used = rhyme_uses()[ch]
            groups = frozenset(g for g in groups if used.get(g, 0) > 0 and used[g] >= MAIN_SHARE * feet)
        if groups:
            out[ch] = groups
    return out


def rhyme_groups(ch: str) -> frozenset[str]:
    """韵脚上的这个字算哪些平声韵部：只算它的主要读法。

    韵书里只有一种读法（只在一个韵部里）的字，就是那个韵部。多音字（在几个韵部里，平声或仄声）的一个
    平声韵部只在唐人真这样押过时才算：训练集的诗里，它在韵脚上、而同诗别的韵脚能确定是这个韵部的次数，
    至少 1 次，且至少占它出现在韵脚上的次数的 MAIN_SHARE（10 %）。例：“台”在上平四支（音“怡”，
    训练集里 0 次）与上平十灰（610 次）里，只算十灰；“忘”在下平七阳与去声里，押七阳的次数占了大半，算七阳。
    """
    return _rhyme_groups().get(ch, frozenset())


# ---------------------------------------------------------------- 平仄谱

def metre_patterns(chars: int, lines: int) -> dict[str, list[str]]:
    """近体诗的四种平仄谱（平起/仄起 × 首句入韵与否），每句一个字符串。

    只规定节奏点和句末，其余位置是“中”（一三五不论）：
    - 第 2 字：首句定平起或仄起；同一联里对句与出句相反（对），下一联出句与上一联对句相同（粘）；
    - 第 4 字与第 2 字相反，七言第 6 字与第 2 字相同（二四六分明）；
    - 句末：双数句是平（押韵），其余是仄；首句入韵时首句也是平。所以句末为平的句子都押韵。
    例：五绝仄起首句不入韵 = 中仄中平仄，中平中仄平。中平中仄仄，中仄中平平。
    “中”的位置并非都能随便填：孤平、三平尾（见 lone_level、level_tail）由解码时逐字排除。
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


def lone_level(marks: str) -> bool:
    """孤平：押平声韵的一句里，韵脚以外只剩一个平声字，而且它不挨着韵脚（五言 仄平仄仄平，七言 仄仄仄平仄仄平）。

    marks 是这句每个字的平仄（平、仄、中、?）。“中”“?”的字可能是平，按平算（宽判：只有确实孤平才算）。
    """
    level = [i for i, m in enumerate(marks[:-1]) if m != "仄"]
    return len(level) == 1 and level[0] != len(marks) - 2


def level_tail(marks: str) -> bool:
    """三平尾：句末三个字都是平声（“中”“?”可能是仄，不算）。"""
    return marks[-3:] == "平平平"


def line_faults(marks: str, rhymed: bool) -> bool:
    """这句有没有孤平（只看押平声韵的句子，rhymed=True）或三平尾。"""
    return (rhymed and lone_level(marks)) or level_tail(marks)


def completable(pattern_line: str, fixed: dict[int, str]) -> bool:
    """按这句的平仄谱（pattern_line），已经确定的字（下标 -> 平仄）之外的位置能否填成没有孤平、三平尾的一句。

    谱里是“平”“仄”的位置按谱（最坏的情形：确是平、确是仄），“中”的位置平、仄都试。
    """
    free = [i for i, need in enumerate(pattern_line) if i not in fixed]
    rhymed = pattern_line[-1] == "平"
    for choice in product(*(("平", "仄") if pattern_line[i] == "中" else (pattern_line[i],) for i in free)):
        marks = {**fixed, **dict(zip(free, choice))}
        if not line_faults("".join(marks[i] for i in range(len(pattern_line))), rhymed):
            return True
    return False


# ---------------------------------------------------------------- 两个来源的比较

COMPARISON = ("相同", "统计表一读、韵书两读", "统计表记中、韵书一读", "相反", "韵书里没有")


def compare_tone_sources(chars=None) -> dict[str, list[str]]:
    """统计表与韵书表逐字比较（统计表里的字；默认全部），每一类的字按 COMPARISON 的顺序：

    相同；统计表定为平或仄、韵书两边都收（多音字，标注里一种读法占了九成以上）；统计表记“中”、韵书只收一边；
    相反（一边平、一边仄：至少有一边错了）；韵书里没有这个字。
    """
    counted, book = tone_table(), pingshui_tone_table()
    out: dict[str, list[str]] = {kind: [] for kind in COMPARISON}
    for ch in (counted if chars is None else chars):
        if ch not in counted:           # 只比统计表里有的字
            continue
        a, b = counted[ch], book.get(ch, "?")
        kind = ("韵书里没有" if b == "?" else "相同" if a == b else "统计表一读、韵书两读" if b == "中"
                else "统计表记中、韵书一读" if a == "中" else "相反")
        out[kind].append(ch)
    return out
