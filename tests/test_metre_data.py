"""data/tones.tsv 与 data/pingshui.tsv：格式、与 data/README.md 记录的数字和 sha256 一致。"""
import hashlib
import re
from collections import Counter

import pytest

from utils.data import HAN
from utils.metre import BOTH_SHARE, PINGSHUI_PATH, TONES_PATH, rhyme_table, tone_table
from utils.settings import DATA_DIR

README = (DATA_DIR / "README.md").read_text(encoding="utf-8")
_HAN_CHAR = re.compile(f"[{HAN}]")


def number(text):
    return int(text.replace(",", ""))


@pytest.mark.parametrize("path", [TONES_PATH, PINGSHUI_PATH], ids=lambda p: p.name)
def test_checksum_and_size_match_data_readme(path):
    row = re.search(rf"^\| `{path.name}` \|.*\| ([\d,]+) 字节 \| `([0-9a-f]{{64}})` \|$", README, re.M)
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == row.group(2)
    assert len(data) == number(row.group(1))


def test_tone_table_rows_follow_the_documented_rule():
    lines = TONES_PATH.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "字\t平\t仄\t判定" and lines[-1] == ""
    chars = []
    for line in lines[1:-1]:
        ch, ping, ze, verdict = line.split("\t")
        ping, ze = int(ping), int(ze)
        assert _HAN_CHAR.fullmatch(ch) and ping + ze > 0, line
        both = min(ping, ze) >= BOTH_SHARE * (ping + ze)
        assert verdict == ("中" if both else "平" if ping > ze else "仄"), line
        chars.append(ch)
    assert chars == sorted(set(chars))                      # 按字排序、不重复：每次构建相同
    kinds = Counter(tone_table().values())
    stated = re.search(r"平 ([\d,]+) 字、仄 ([\d,]+) 字、中 ([\d,]+) 字", README).groups()
    assert [kinds["平"], kinds["仄"], kinds["中"]] == list(map(number, stated))
    assert number(re.search(r"\| `tones.tsv` \| ([\d,]+) 字", README).group(1)) == len(chars)


def test_entering_tone_characters_are_oblique_in_both_tables():
    for ch in "白月国出十":
        assert tone_table()[ch] == "仄"
        assert any(ch in chars for tone, chars in rhyme_table().values() if tone == "入"), ch
    assert "阳" in rhyme_table()["下平七阳"][1]


def test_pingshui_table_has_106_groups():
    table = rhyme_table()
    tones = Counter(tone for tone, _ in table.values())
    assert tones == {"平": 30, "上": 29, "去": 30, "入": 17}
    for name, (tone, chars) in table.items():
        assert name.startswith({"平": ("上平", "下平"), "上": "上声", "去": "去声", "入": "入声"}[tone])
        assert len(set(chars)) == len(chars) and all(_HAN_CHAR.fullmatch(ch) for ch in chars), name
    stated = re.search(r"共 ([\d,]+) 字；([\d,]+) 字属于不止一个韵部", README).groups()
    in_groups = Counter(ch for _, chars in table.values() for ch in chars)
    assert [len(in_groups), sum(n > 1 for n in in_groups.values())] == list(map(number, stated))
