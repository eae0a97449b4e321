"""data/tones.tsv、data/pingshui.tsv 与 data/rhyme_uses.tsv：格式、与 data/README.md 记录的数字和 sha256 一致，
韵脚上的多音字表能从 poems.txt 重算出来，统计表与韵书表的对照与 README 相符。"""
import hashlib
import re
from collections import Counter

import pytest

from scripts.build_metre import ADDED, rhyme_uses
from utils.data import HAN, load_poems, split_poems
from utils.metre import (BOTH_SHARE, MAIN_SHARE, PINGSHUI_PATH, RHYME_USES_PATH, TONES_PATH, compare_tone_sources,
                         ping_groups, rhyme_groups, rhyme_table, tone_table)
from utils.settings import DATA_DIR

README = (DATA_DIR / "README.md").read_text(encoding="utf-8")
_HAN_CHAR = re.compile(f"[{HAN}]")


def number(text):
    return int(text.replace(",", ""))


@pytest.mark.parametrize("path", [TONES_PATH, PINGSHUI_PATH, RHYME_USES_PATH], ids=lambda p: p.name)
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


def test_the_missing_character_is_added_to_its_group():
    for group, ch in ADDED.items():
        assert rhyme_table()[group][1].startswith(ch)
    assert "下平一先" in ping_groups("先")


def test_rhyme_uses_can_be_rebuilt_from_the_corpus():
    rows = [line.split("\t") for line in PINGSHUI_PATH.read_text(encoding="utf-8").splitlines()[1:]]
    train = [p.content for p in split_poems(load_poems())[0]]
    text = "字\t韵部\t押韵次数\t韵脚次数\n" + "".join("\t".join(map(str, row)) + "\n" for row in rhyme_uses(train, rows))
    assert RHYME_USES_PATH.read_text(encoding="utf-8") == text
    chars = {row[0] for row in rhyme_uses(train, rows)}
    stated = re.search(r"\| `rhyme_uses.tsv` \| ([\d,]+) 个多音字，([\d,]+) 行", README).groups()
    assert [len(chars), text.count("\n") - 1] == list(map(number, stated))


def test_the_main_reading_rule_as_documented():
    assert MAIN_SHARE == 0.1 and "至少占韵脚次数的 10 %" in README
    assert rhyme_groups("台") == {"上平十灰"} and rhyme_groups("还") == {"上平十五删"}
    assert rhyme_groups("忘") == {"下平七阳"} and tone_table()["忘"] == "仄"
    assert rhyme_groups("行") == {"下平七阳", "下平八庚"}
    poly = [line.split("\t")[0] for line in RHYME_USES_PATH.read_text(encoding="utf-8").splitlines()[1:]]
    kinds = Counter("全部" if rhyme_groups(ch) == ping_groups(ch) else "没有" if not rhyme_groups(ch) else "部分"
                    for ch in dict.fromkeys(poly))
    stated = re.search(r"([\d,]+) 个保留全部平声韵部，([\d,]+) 个只保留一部分，([\d,]+) 个", README).groups()
    assert [kinds["全部"], kinds["部分"], kinds["没有"]] == list(map(number, stated))


def test_the_comparison_with_the_rhyme_book_matches_the_readme():
    kinds = compare_tone_sources()
    for kind, label in [("相同", "相同"), ("统计表一读、韵书两读", "统计表定为平或仄，韵书两边都收（多音字）"),
                        ("统计表记中、韵书一读", "统计表记“中”，韵书只收一边"), ("相反", "相反（一边平、一边仄）"),
                        ("韵书里没有", "韵书里没有")]:
        row = re.search(rf"^\| {re.escape(label)} \| ([\d,]+) \|", README, re.M)
        assert row and number(row.group(1)) == len(kinds[kind]), kind
    assert "旁" in kinds["相反"] and "槎" in kinds["相反"] and "先" not in kinds["相反"]
