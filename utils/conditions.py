"""按题作诗的“条件”：诗前面先写标题或关键词，模型读完它们再写诗（条件语言模型，第 12、13 章）。

一首诗编成 [<bos>] + 条件 + [正文…] + [<eos>]，条件是五种之一：
- 标题：标题的字 + <title>（最多 TITLE_CHARS 个字，不在词表里的字记作 <unk>）；
- 题中词：标题里随便一处连着的一两个字 + <title>（“送杜少府之任蜀州” -> “送”“蜀州”……）：人要诗时给的题目
  往往很短（“月”“送别”），真诗的标题却长，只用整个标题训练的模型没怎么见过这么短的题目；
- 关键词：从正文里抽出的几个词（词之间用“，”隔开）+ <keywords>；
- 没有条件：与第 6、7 章完全一样，<bos> 之后直接是正文（困惑度与第 6、7 章可比）；
- 空标题：<bos> 之后直接是 <title>。不给题目写诗时用它（EMPTY_TITLE）：八成训练的诗 <bos> 之后先是题目或
  关键词，只喂 <bos> 的话模型常常先写出一段像题目的字（“其一”“二首”），<title> 告诉它题目已经写完了。
训练时每首诗按固定的比例（MIX）抽一种，所以同一个模型既能按题写，也能不给题目照常写。
两个分隔符加在词表最后（编号比原来的词表都大），原来的字编号不变：不带条件的诗的编号与第 6、7 章的相同，
验证集、测试集的困惑度可以直接比。

关键词：近体诗的句子按节奏两字一顿（五言 2+2+1，七言 2+2+2+1），每一顿的两个字是一个候选词；
不要含虚字（不、无、之、何……）的，不要训练集里少于 MIN_DOCS 首诗用过的（多半不成词）；在训练集上算逆文档频率（IDF），
每首诗取 TF-IDF 最高的几个（Jiuge 也是先从诗里抽关键词再训练的）。现代汉语的分词（jieba）切古诗常常切错
（“忽腾气”“惨无晖”），所以这里不用它。
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Container, Iterable, Sequence

import numpy as np

from utils.data import Vocab, poem_lines

TITLE, KEYWORDS = "<title>", "<keywords>"
TITLE_CHARS = 12
MIX = {"title": 0.35, "title_word": 0.15, "keywords": 0.3, "none": 0.1, "empty_title": 0.1}
EMPTY_TITLE = ""  # 不给题目写诗时的条件：空标题（见上）
TITLE_WORD_CHARS = (1, 2)  # 题中词的字数
KEYWORD_COUNT = 3
MIN_DOCS = 20
PLAN_MIN_POEMS, PLAN_MIN_DOCS, PLAN_POOL = 100, 5, 12  # 按题目挑关键词（KeywordPlanner）
# 虚字：含它们的两字组不当关键词
FUNCTION_CHARS = set("不无有亦如今为此与何自其之而以所是也乃又且将欲可能已未若犹还更唯谁莫")


def condition_vocab(vocab: Vocab) -> Vocab:
    """原来的词表后面加上两个分隔符。"""
    return Vocab(list(vocab.id2word) + [TITLE, KEYWORDS])


def separators(vocab: Vocab) -> list[int]:
    """按题作诗的两个分隔符的编号（条件在 <bos> 与它们之间）。"""
    return [vocab.word2id[TITLE], vocab.word2id[KEYWORDS]]


def _candidates(content: str) -> list[str]:
    """候选关键词：每句按两字一顿切出的两字词，不含虚字。"""
    return [w for line in poem_lines(content) for w in (line[i:i + 2] for i in range(0, len(line) - 1, 2))
            if not set(w) & FUNCTION_CHARS]


class KeywordExtractor:
    """在一批诗（训练集）上数每个候选词出现在几首诗里，得到 IDF；extract(诗) 按 TF-IDF 取最高的 k 个词
    （按在诗中出现的顺序给出）。"""

    def __init__(self, contents: Iterable[str], min_docs: int = MIN_DOCS):
        docs = Counter()
        count = 0
        for content in contents:
            docs.update(set(_candidates(content)))
            count += 1
        self.idf = {w: math.log(count / n) for w, n in docs.items() if n >= min_docs}

    def extract(self, content: str, k: int = KEYWORD_COUNT) -> list[str]:
        words = [w for w in _candidates(content) if w in self.idf]
        tf = Counter(words)
        best = set(sorted(tf, key=lambda w: (-tf[w] * self.idf[w], words.index(w)))[:k])
        return [w for w in dict.fromkeys(words) if w in best]


class KeywordPlanner:
    """按题目挑关键词（Jiuge 的“规划”：先由题目想出几个词，再按这几个词写诗）。

    训练集里标题含这个题目的诗（不到 PLAN_MIN_POEMS 首时，改用标题含题目里任何一个实字的诗）就是这个题目的“例诗”。
    一个候选词在例诗里出现的比例 a 比在全部诗里的比例 b 高得越多、本身越常用，就越像这个题目的词：
    得分 a·log(a/b)（只算 a > b、至少 PLAN_MIN_DOCS 首例诗用过的词）。得分最高的 PLAN_POOL 个词是词池，
    每首诗按得分的比例从词池里不放回地抽 KEYWORD_COUNT 个：同一个题目每首诗的关键词不同。
    关键词与训练时一样是两字词，模型把它们当作“从正文里抽出的词”读（MIX 的 keywords）。"""

    def __init__(self, contents: Sequence[str], titles: Sequence[str]):
        self.titles = ["".join(t.split()) for t in titles]
        self.words = [set(_candidates(c)) for c in contents]
        self.docs = Counter(w for words in self.words for w in words)

    def examples(self, title: str) -> list[int]:
        """例诗的下标。"""
        title = "".join(title.split())
        chosen = [i for i, t in enumerate(self.titles) if title in t]
        if len(chosen) < PLAN_MIN_POEMS:
            chars = set(title) - FUNCTION_CHARS
            chosen = [i for i, t in enumerate(self.titles) if chars & set(t)]
        return chosen

    def pool(self, title: str, known: Container[str] | None = None) -> dict[str, float]:
        """词池：词 -> 得分（从高到低）；known 给定时只要字都在 known 里的词（模型的词表）。例诗太少时是空的。"""
        chosen = self.examples(title)
        if len(chosen) < PLAN_MIN_DOCS:
            return {}
        counts = Counter(w for i in chosen for w in self.words[i])
        total = len(self.words)
        scores = {}
        for w, n in counts.items():
            a, b = n / len(chosen), self.docs[w] / total
            if n >= PLAN_MIN_DOCS and a > b and (known is None or all(c in known for c in w)):
                scores[w] = a * math.log(a / b)
        return dict(sorted(scores.items(), key=lambda kv: -kv[1])[:PLAN_POOL])

    def plan(self, title: str, rng: np.random.Generator, k: int = KEYWORD_COUNT,
             known: Container[str] | None = None) -> list[str]:
        """从词池里按得分的比例不放回地抽 k 个词；词池是空的（挑不出）时返回空列表。"""
        pool = self.pool(title, known)
        if not pool:
            return []
        words, weights = list(pool), np.array(list(pool.values()))
        picked = rng.choice(len(words), size=min(k, len(words)), replace=False, p=weights / weights.sum())
        return [words[i] for i in picked]


def split_keywords(text: str) -> list[str]:
    """“明月，故乡”“明月 故乡”“明月,故乡” -> ["明月", "故乡"]（命令行与写诗小部件共用）。"""
    return [w for w in re.split(r"[\s,，、]+", text) if w]


def condition_ids(vocab: Vocab, title: str | None = None, keywords: Sequence[str] | None = None) -> list[int]:
    """条件部分的编号（不含 <bos>）：标题的字 + <title>，或关键词（“，”隔开）+ <keywords>，或空。"""
    if title is not None and keywords is not None:
        raise ValueError("标题和关键词只能给一种 (give a title or keywords, not both)")
    if title is not None:
        return vocab.encode("".join(title.split())[:TITLE_CHARS], bos=False, eos=False) + [vocab.word2id[TITLE]]
    if keywords is not None:
        return vocab.encode("，".join(keywords), bos=False, eos=False) + [vocab.word2id[KEYWORDS]]
    return []


def own_title(vocab: Vocab, title: str) -> str | None:
    """一首真诗的标题当题目（按题作诗的评判与测量用）：与训练时一样只取前 TITLE_CHARS 个字，词表外的字（训练时记作 <unk>）去掉；
    什么也不剩时是 None（不给题目）。"""
    return "".join(c for c in "".join(title.split())[:TITLE_CHARS] if c in vocab.word2id) or None


def no_condition(vocab: Vocab) -> list[int]:
    """不给题目写诗时喂的条件：学过按题作诗的词表（有 <title>）喂空标题，第 6、7 章的词表什么也不喂。"""
    return condition_ids(vocab, title=EMPTY_TITLE) if TITLE in vocab.word2id else []


def encode(vocab: Vocab, content: str, title: str | None = None, keywords: Sequence[str] | None = None) -> list[int]:
    """[<bos>] + 条件 + 正文 + [<eos>]。"""
    ids = vocab.encode(content)
    return ids[:1] + condition_ids(vocab, title, keywords) + ids[1:]


def title_word(title: str, rng: np.random.Generator) -> str:
    """标题（前 TITLE_CHARS 个字）里随便一处连着的一两个字，不含空白。"""
    title = "".join(title.split())[:TITLE_CHARS]
    size = min(int(rng.choice(TITLE_WORD_CHARS)), len(title))
    start = int(rng.integers(0, len(title) - size + 1))
    return title[start:start + size]


def training_seqs(vocab: Vocab, poems, extractor: KeywordExtractor, seed: int = 0) -> tuple[list[list[int]], dict]:
    """每首诗按 MIX 的比例抽一种条件编码（种子固定，每次运行相同）。返回编号序列与各种条件的首数。"""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(list(MIX), size=len(poems), p=list(MIX.values()))
    seqs = []
    for poem, kind in zip(poems, kinds):
        if kind == "title":
            seqs.append(encode(vocab, poem.content, title=poem.title))
        elif kind == "title_word":
            seqs.append(encode(vocab, poem.content, title=title_word(poem.title, rng)))
        elif kind == "empty_title":
            seqs.append(encode(vocab, poem.content, title=EMPTY_TITLE))
        elif kind == "keywords":
            seqs.append(encode(vocab, poem.content, keywords=extractor.extract(poem.content)))
        else:
            seqs.append(encode(vocab, poem.content))
    return seqs, dict(Counter(kinds.tolist()))


def content_perplexities(token_nlls, vocab: Vocab, poems, seed: int = 0) -> dict[str, float]:
    """留出的真诗的正文（含 <eos>）的每字困惑度，三种给法：给它自己的标题、不给条件、给另一首随机的诗的标题。
    模型若不理会条件，三个数就一样。token_nlls 是框架的（或打分模型的）“编号序列 -> 逐字负对数似然”。"""
    rng = np.random.default_rng(seed)
    titles = [p.title for p in poems]
    shuffled = [titles[(i + k) % len(titles)] for i, k in enumerate(rng.integers(1, len(titles), len(titles)))]
    out = {}
    for name, given in (("自己的标题", titles), ("不给条件", [None] * len(poems)), ("随机的标题", shuffled)):
        seqs = [encode(vocab, p.content, title=t) for p, t in zip(poems, given)]
        tail = [nll[-(len(p.content) + 1):] for p, nll in zip(poems, token_nlls(seqs))]
        out[name] = float(np.exp(np.concatenate(tail).mean()))
    return out
