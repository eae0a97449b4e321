"""诗歌语料 -> 词表 -> 编号 -> 划分 -> 批次。只用 NumPy，TensorFlow 与 PyTorch 两章共用。

数据流：poems.txt --load_poems--> [Poem] --split_poems--> train/valid/test
        --Vocab.build(train)--> 词表 --encode--> 编号序列 --iterate_batches--> 补齐的批次
`process_dataset` 把这些步骤串起来，名字沿用原文。
"""
from __future__ import annotations

import hashlib
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from utils.settings import POEMS_PATH

# 汉字只取 CJK 统一汉字基本区（U+4E00–U+9FFF）：常见字体都能显示，含扩展区生僻字的诗不收
HAN = "\u4e00-\u9fff"
PUNCT = "，。？！、；"
_ALLOWED = re.compile(f"^[{HAN}{PUNCT}]+$")
_SPLIT_LINES = re.compile(f"[{PUNCT}]")
_REGULAR = {n: re.compile(f"^(?:[{HAN}]{{{n}}}，[{HAN}]{{{n}}}。)+$") for n in (5, 7)}

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)

# 体裁只在这里列一次。绝句 4 句、律诗 8 句；一“联”是“X…，X…。”两句
_LINES = {"绝句": 4, "律诗": 8}
REGULAR_FORMS = ("五言绝句", "七言绝句", "五言律诗", "七言律诗")  # 近体诗的四种体裁
FORMS = REGULAR_FORMS + ("五言其他", "七言其他")  # poem_form 可能的返回值
FORM_ALIASES = {name[0] + name[2]: name for name in REGULAR_FORMS}  # 简称：五绝 -> 五言绝句 ……


def form_shape(name: str) -> tuple[int, int]:
    """近体诗体裁（全称）-> (每句字数, 句数)，如 五言律诗 -> (5, 8)。"""
    return (5 if name[0] == "五" else 7), _LINES[name[2:]]


class Poem(NamedTuple):
    title: str
    content: str


class CorpusError(ValueError):
    """语料文件内容有问题（例如不是 UTF-8）。"""


# ---------------------------------------------------------------- 体裁

def is_regular_poem(content: str) -> bool:
    """每句都是 5 字或都是 7 字，句读为“，。”交替。"""
    return any(p.match(content) for p in _REGULAR.values())


def poem_lines(content: str) -> list[str]:
    """按标点切成句（去掉标点和空句）。"""
    return [line for line in _SPLIT_LINES.split(content) if line]


def poem_form(content: str) -> str | None:
    """返回 FORMS 之一；不是整齐的五言/七言诗时返回 None。"""
    for n, pattern in _REGULAR.items():
        if pattern.match(content):
            lines = len(content) // (n + 1)
            kind = next((k for k, v in _LINES.items() if v == lines), "其他")
            return f"{'五' if n == 5 else '七'}言{kind}"
    return None


def filter_forms(poems: Iterable[Poem], forms: Iterable[str] | str) -> list[Poem]:
    """只保留给定体裁（如 ["五言绝句", "七绝"]）的诗；一首不剩时报错。"""
    forms = [forms] if isinstance(forms, str) else list(forms)
    wanted = {FORM_ALIASES.get(f, f) for f in forms}
    unknown = wanted - set(FORMS)
    if unknown:
        raise ValueError(f"未知体裁 {sorted(unknown)}；可选 {list(FORMS)} 或 {list(FORM_ALIASES)}"
                         f" (unknown form)")
    kept = [p for p in poems if poem_form(p.content) in wanted]
    if not kept:
        raise ValueError(f"按体裁 {sorted(wanted)} 筛选后一首诗也没有剩下 (the filter left no poems)")
    return kept


# ---------------------------------------------------------------- 读取

def load_poems(path: str | Path = POEMS_PATH) -> list[Poem]:
    """读取 `标题:内容` 行。格式不对的行跳过并计数，给出警告。"""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"找不到语料文件 {path}：请先运行 `make data` 生成它 (corpus not found: run `make data`)")
    poems, bad = [], []
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as e:
                raise CorpusError(f"{path} 第 {number} 行不是 UTF-8 编码 "
                                  f"(line {number} is not valid UTF-8: {e.reason})") from None
            title, colon, content = line.partition(":")
            if not colon or not content or not _ALLOWED.match(content):
                bad.append(number)
                continue
            poems.append(Poem(title, content))
    if bad:
        shown = "、".join(map(str, bad[:5])) + ("……" if len(bad) > 5 else "")
        warnings.warn(f"{path.name}：跳过 {len(bad)} 行格式不对的行（第 {shown} 行）"
                      f" (skipped {len(bad)} malformed lines)", stacklevel=2)
    return poems


def split_of(content: str, valid: float = 0.05, test: float = 0.05) -> int:
    """一首诗属于哪一份：0 = train，1 = valid，2 = test。只由内容的哈希决定。"""
    u = int.from_bytes(hashlib.md5(content.encode("utf-8")).digest()[:8], "big") / 2**64
    return 0 if u < 1 - valid - test else 1 if u < 1 - test else 2


def split_poems(poems: Sequence[Poem], valid: float = 0.05, test: float = 0.05):
    """按内容的哈希划分 train/valid/test：与顺序、框架、随机种子都无关。"""
    parts = ([], [], [])
    for poem in poems:
        parts[split_of(poem.content, valid, test)].append(poem)
    return parts


def extra_training_poems(path: str | Path, vocab: "Vocab", held_out: Iterable[str]) -> tuple[list[Poem], dict]:
    """另一份语料（宋诗）里可以加进训练集的诗。只收两种诗之外的：
    有字不在词表里的（词表仍是唐诗训练集的，模型的输入输出层和检查点的格式都不变）；
    有一句与 held_out（唐诗的验证集、测试集）里某一句相同的（否则留出的诗句会从这里漏进训练）。
    返回 (这些诗, 各步剩下多少首)。"""
    poems = load_poems(path)
    held = {line for content in held_out for line in poem_lines(content)}
    known = [p for p in poems if not vocab.missing(p.content)]
    kept = [p for p in known if not any(line in held for line in poem_lines(p.content))]
    counts = {"读入": len(poems), "每个字都在词表里": len(known), "且没有一句与留出的唐诗相同": len(kept)}
    return kept, counts


# ---------------------------------------------------------------- 词表

@dataclass
class Vocab:
    """字 <-> 编号。0..3 依次是 <pad> <unk> <bos> <eos>。"""

    id2word: list[str]
    word2id: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        if tuple(self.id2word[:4]) != SPECIALS:
            raise ValueError(f"词表前四个必须是 {SPECIALS}")
        self.word2id = {w: i for i, w in enumerate(self.id2word)}

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> "Vocab":
        """按出现次数从多到少（同次数按字符）排列；少于 min_count 次的字记作 <unk>。"""
        counts = Counter(ch for text in texts for ch in text)
        words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(list(SPECIALS) + words)

    def __len__(self) -> int:
        return len(self.id2word)

    def __contains__(self, ch: str) -> bool:
        return ch in self.word2id and ch not in SPECIALS

    def encode(self, text: str, bos: bool = True, eos: bool = True) -> list[int]:
        ids = [self.word2id.get(ch, self.unk_id) for ch in text]
        return [self.bos_id] * bos + ids + [self.eos_id] * eos

    def decode(self, ids: Iterable[int]) -> str:
        """编号转回文字；遇到 <eos> 停止，跳过 <pad>/<bos>。"""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos_id:
                break
            if i not in (self.pad_id, self.bos_id):
                out.append(self.id2word[i])
        return "".join(out)

    def missing(self, text: str) -> list[str]:
        """text 中不在词表里的字（去重，保持顺序）。"""
        return list(dict.fromkeys(ch for ch in text if ch not in self))


# ---------------------------------------------------------------- 补齐与批次

def pad_sequences(seqs: Sequence[Sequence[int]], max_len: int | None = None, pad_id: int = 0):
    """补齐或截断到 max_len（默认为最长序列的长度）。返回 (ids[N, max_len], 截断后的长度)。"""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if max_len is None:
        max_len = int(lengths.max()) if len(seqs) else 0
    lengths = np.minimum(lengths, max_len)
    ids = np.full((len(seqs), max_len), pad_id, dtype=np.int32)
    for row, (seq, n) in enumerate(zip(seqs, lengths)):
        ids[row, :n] = seq[:n]
    return ids, lengths


def iterate_batches(seqs: Sequence[Sequence[int]], batch_size: int, shuffle: bool = True,
                    seed: int = 0, pad_id: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """把长度相近的诗放进同一批，每批只补齐到本批最长的一首。

    shuffle=True 时，同长度的诗随机排列，批次顺序也随机（由 seed 决定）。
    产出 (ids[B, T], lengths[B])。
    """
    lengths = np.array([len(s) for s in seqs])
    rng = np.random.default_rng(seed)
    tiebreak = rng.random(len(seqs)) if shuffle else np.arange(len(seqs))
    order = np.lexsort((tiebreak, lengths))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    for batch in batches:
        yield pad_sequences([seqs[i] for i in batch], pad_id=pad_id)


def length_sorted_chunks(seqs: Sequence[Sequence[int]], batch_size: int) -> list[np.ndarray]:
    """下标按序列长度从短到长排好，每 batch_size 个一组（打分时用：同组的诗长短相近，补齐的少）。"""
    order = np.argsort([len(s) for s in seqs], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def stream_windows(seqs: Sequence[Sequence[int]], batch_size: int, seq_len: int,
                   seed: int = 0) -> Iterator[np.ndarray]:
    """截断 BPTT 用的批（第 11 章）：诗（含 <bos>、<eos>）按 seed 打乱后首尾相接成一条长流，
    平分成 batch_size 行并行的子流，每次产出每行接下来的 seq_len + 1 个编号 ids[B, seq_len + 1]
    （前 seq_len 个是输入，后 seq_len 个是目标）。

    相邻两批逐行首尾相接（上一批的最后一个编号是下一批的第一个），所以上一批结束时的隐状态
    正好是下一批的初始状态。流尾不够一整批的部分丢掉。
    """
    order = np.random.default_rng(seed).permutation(len(seqs))
    stream = np.concatenate([np.asarray(seqs[i], dtype=np.int64) for i in order])
    per_row = len(stream) // batch_size
    rows = stream[:per_row * batch_size].reshape(batch_size, per_row)
    for start in range(0, per_row - seq_len, seq_len):
        yield rows[:, start:start + seq_len + 1]


# ---------------------------------------------------------------- 一步到位

@dataclass
class PoemData:
    """process_dataset 的结果：词表和三份编号后的诗（每首含 <bos> 与 <eos>）。"""

    vocab: Vocab
    train: list[list[int]]
    valid: list[list[int]]
    test: list[list[int]]

    @property
    def word2id(self) -> dict[str, int]:
        return self.vocab.word2id

    @property
    def id2word(self) -> list[str]:
        return self.vocab.id2word


def process_dataset(path: str | Path = POEMS_PATH, max_len: int | None = None, min_count: int = 1,
                    forms: Iterable[str] | str | None = None, limit: int | None = None) -> PoemData:
    """读取 poems.txt：按冒号拆出标题和内容，加 <bos>/<eos>，建词表，截断到 max_len。

    forms 只保留某些体裁；limit 只取每份数据的前 limit 首（快速模式用）。
    词表只由训练集建立，两章共用同一划分。
    """
    poems = load_poems(path)
    if forms is not None:
        poems = filter_forms(poems, forms)
    splits = [part[:limit] for part in split_poems(poems)]
    vocab = Vocab.build((p.content for p in splits[0]), min_count=min_count)

    def encode(part):
        return [vocab.encode(p.content)[:max_len] for p in part]

    return PoemData(vocab, *map(encode, splits))
