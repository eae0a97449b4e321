"""data/poems.txt：每一行的格式、去重，以及与 data/README.md 记录的 sha256 一致。"""
import hashlib
import re

from utils.data import is_regular_poem, poem_form
from utils.settings import DATA_DIR, POEMS_PATH


def test_every_line_is_title_colon_regular_poem():
    lines = POEMS_PATH.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "文件应以换行结尾"
    contents = []
    for number, line in enumerate(lines[:-1], start=1):
        title, colon, content = line.partition(":")
        assert colon and title and title == title.strip(), f"第 {number} 行标题格式不对: {line[:30]}"
        assert is_regular_poem(content), f"第 {number} 行不是整齐的五言/七言诗: {line[:30]}"
        contents.append(content)
    assert len(set(contents)) == len(contents), "内容有重复"
    assert 40_000 < len(contents) < 50_000


def test_checksum_and_counts_match_data_readme():
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"sha256: `([0-9a-f]{64})`", readme).group(1)
    data = POEMS_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded
    total = int(re.search(r"共 \*\*([\d,]+)\*\* 首", readme).group(1).replace(",", ""))
    assert data.count(b"\n") == total


def test_form_counts_match_data_readme():
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    table = {}
    for n in "五七":
        row = re.search(rf"\| {n}言 \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|", readme).groups()
        for kind, value in zip(("绝句", "律诗", "其他"), row):
            table[f"{n}言{kind}"] = int(value.replace(",", ""))
    counts = dict.fromkeys(table, 0)
    for line in POEMS_PATH.read_text(encoding="utf-8").splitlines():
        counts[poem_form(line.split(":", 1)[1])] += 1
    assert counts == table
