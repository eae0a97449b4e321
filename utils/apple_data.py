"""第 02 章的标注数据：句子里的 apple / 苹果 是水果（FRUIT）还是公司（COMPANY）？

句子由模板生成，英文与中文（中文用 jieba 分词）各一半。每个模板有一个“线索”：
  side="left"  线索在 apple 之前（"i like eating apple"）
  side="right" 线索在 apple 之后（"the apple is a great company"），apple 之前只有
               两类共用的开头（the / this / 我觉得 ……），从左边看不出是哪一类。
每个 (语言, 标签, 线索位置) 组合的模板数、每个模板的句子数都相同，所以两类 apple 各占一半。
测试集用训练时没见过的模板（每组的第 4、8 个……），考的是泛化而不是记忆。
"""
from __future__ import annotations

import itertools
import logging
import random
import re
from dataclasses import dataclass

TAGS = ("O", "FRUIT", "COMPANY")
APPLE_WORDS = {"en": "apple", "zh": "苹果"}

# 填空：{P} 人，{F} 水果形容词（英文），{PRE} 两类共用的开头（只用于 side="right"），
# I 是加在每句最前面的时间/语气词（两类共用，不是线索）。每个模板至少含 {P} 或 {PRE}。
FILLERS = {
    "en": {
        "P": ["tom", "anna", "my sister", "our teacher", "the boy", "lucy", "mr wang"],
        "F": ["red", "green", "ripe", "sweet", "juicy", "fresh"],
        "I": ["", "yesterday", "today", "last week", "in the morning", "by the way", "i heard that"],
        "PRE": ["the", "this", "that", "i think the", "{P} said the", "everyone knows the", "look , the"],
    },
    "zh": {
        "P": ["小明", "小红", "妈妈", "老师", "哥哥", "我", "她"],
        "I": ["", "昨天", "今天", "上周", "听说", "其实", "据说"],
        "PRE": ["", "这个", "那个", "我觉得", "{P}说", "大家都知道", "你看，"],
    },
}

# (语言, 标签, 线索位置) -> 模板；每组 8 个，下标 3、7 的两个只进测试集
TEMPLATES = {
    ("en", "FRUIT", "left"): [
        "{P} likes eating a {F} {A} .",
        "{P} peeled the {A} with a knife .",
        "{P} picked a {F} {A} from the tree .",
        "{P} baked a pie with one {A} .",
        "{P} washed a {A} before lunch .",
        "{P} cut the {F} {A} into slices .",
        "for dessert {P} had a {F} {A} .",
        "{P} took a bite of the {A} .",
    ],
    ("en", "FRUIT", "right"): [
        "{PRE} {A} is sweet and juicy .",
        "{PRE} {A} fell from the tree .",
        "{PRE} {A} tastes {F} .",
        "{PRE} {A} is my favourite fruit .",
        "{PRE} {A} has a worm inside .",
        "{PRE} {A} was grown on a farm .",
        "{PRE} {A} on the table is ripe .",
        "{PRE} {A} is rich in vitamins .",
    ],
    ("en", "COMPANY", "left"): [
        "{P} bought shares of {A} today .",
        "{P} works as an engineer at {A} .",
        "{P} met the ceo of {A} .",
        "{P} invested in {A} last year .",
        "{P} got a job offer from {A} .",
        "{P} checked the stock price of {A} .",
        "{P} and other analysts praised {A} .",
        "{P} filed a lawsuit against {A} .",
    ],
    ("en", "COMPANY", "right"): [
        "{PRE} {A} released a new phone .",
        "{PRE} {A} hired many engineers .",
        "{PRE} {A} announced record profits .",
        "{PRE} {A} is a great company .",
        "{PRE} {A} opened a store in shanghai .",
        "{PRE} {A} earns billions every year .",
        "{PRE} {A} is a big tech company .",
        "{PRE} {A} sued a rival company .",
    ],
    ("zh", "FRUIT", "left"): [
        "{P}削了一个{A}。",
        "{P}从树上摘了一个{A}。",
        "{P}每天都吃一个{A}。",
        "{P}喜欢吃{A}。",
        "{P}洗了一个{A}。",
        "{P}在水果店买了一个{A}。",
        "{P}咬了一口{A}。",
        "{P}用刀切开了{A}。",
    ],
    ("zh", "FRUIT", "right"): [
        "{PRE}{A}又甜又脆。",
        "{PRE}{A}熟透了。",
        "{PRE}{A}从树上掉下来了。",
        "{PRE}{A}里面有虫子。",
        "{PRE}{A}很新鲜。",
        "{PRE}{A}是一种水果。",
        "{PRE}{A}的味道很甜。",
        "{PRE}{A}放在桌子上，已经熟了。",
    ],
    ("zh", "COMPANY", "left"): [
        "{P}买了很多股票，其中有{A}。",
        "{P}跳槽去了{A}。",
        "分析师{P}看好{A}。",
        "{P}收到了{A}的录用通知。",
        "{P}很崇拜科技公司{A}。",
        "{P}在{A}当工程师。",
        "{P}作为投资者看好{A}的前景。",
        "{P}入职了{A}。",
    ],
    ("zh", "COMPANY", "right"): [
        "{PRE}{A}的股价上涨了。",
        "{PRE}{A}公布了季度财报。",
        "{PRE}{A}招聘了很多工程师。",
        "{PRE}{A}是一家很棒的公司。",
        "{PRE}{A}在上海开了新店。",
        "{PRE}{A}的市值很高。",
        "{PRE}{A}发布了新手机。",
        "{PRE}{A}是一家科技公司。",
    ],
}
TEST_EVERY = 4  # 每组第 4、8 个模板只进测试集


@dataclass(frozen=True)
class Example:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    lang: str
    label: str          # 这句里 apple 的标签
    side: str           # 线索在 apple 的 "left" 还是 "right"
    template: str       # 模板编号，如 "en-FRUIT-left-3"

    @property
    def apple_index(self) -> int:
        return self.tags.index(self.label)


_EN_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9]")
_jieba = None


def _zh_cut(text: str) -> list[str]:
    global _jieba
    if _jieba is None:
        import jieba
        jieba.setLogLevel(logging.WARNING)  # 不打印“Building prefix dict”之类的启动信息
        jieba.add_word("苹果")
        _jieba = jieba
    return [w for w in _jieba.lcut(text) if w.strip()]


def tokenize(sentence: str) -> list[str]:
    """含汉字用 jieba 分词，否则按英文小写分词（标点单独成词）。大小写不作为线索。"""
    if re.search(r"[\u4e00-\u9fff]", sentence):
        return _zh_cut(sentence)
    return _EN_TOKEN.findall(sentence.lower())


def tag_apples(tokens: list[str], label: str) -> list[str]:
    """apple / 苹果 标成 label，其余标 O。"""
    apples = set(APPLE_WORDS.values())
    return [label if t in apples else "O" for t in tokens]


def _fill(template: str, lang: str, rng: random.Random) -> str:
    fillers = FILLERS[lang]
    sep = " " if lang == "en" else ""
    text = rng.choice(fillers["I"]) + sep + template
    text = text.replace("{PRE}", rng.choice(fillers["PRE"]))
    while "{P}" in text:  # {PRE} 里还可能有 {P}
        text = text.replace("{P}", rng.choice(fillers["P"]), 1)
    while "{F}" in text:
        text = text.replace("{F}", rng.choice(fillers["F"]), 1)
    return text.replace("{A}", APPLE_WORDS[lang]).strip()


def template_examples(key, index: int, n: int, rng: random.Random) -> list[Example]:
    """一个模板生成至多 n 个不重复的句子（填空组合不够时少于 n 个）。"""
    lang, label, side = key
    template = TEMPLATES[key][index]
    seen, out = set(), []
    for _ in range(20 * n):
        tokens = tuple(tokenize(_fill(template, lang, rng)))
        if tokens in seen:
            continue
        seen.add(tokens)
        tags = tuple(tag_apples(list(tokens), label))
        if tags.count(label) != 1:
            raise ValueError(f"模板 {template!r} 分词后苹果不是恰好一个：{tokens} "
                             "(template must yield exactly one apple token)")
        out.append(Example(tokens, tags, lang, label, side, f"{lang}-{label}-{side}-{index}"))
        if len(out) == n:
            break
    return out


def make_apple_data(n_per_template: int = 40, seed: int = 0):
    """返回 (train, test) 两个 Example 列表；测试集的模板训练时从未出现。

    为了让两类严格平衡，每个模板取同样多的句子（取各模板能生成的不重复句子数的最小值）。
    """
    if n_per_template < 1:
        raise ValueError(f"n_per_template 至少为 1，得到 {n_per_template} (must be >= 1)")
    rng = random.Random(seed)
    per_template = {(key, i): template_examples(key, i, n_per_template, rng)
                    for key, templates in TEMPLATES.items() for i in range(len(templates))}
    n = min(len(v) for v in per_template.values())
    train, test = [], []
    for (key, i), examples in per_template.items():
        (test if i % TEST_EVERY == TEST_EVERY - 1 else train).extend(examples[:n])
    rng.shuffle(train)
    return train, test


def encode_examples(examples, vocab):
    """Example 列表 -> (词编号[N, L], 标签编号[N, L], 长度[N], apple 位置[N])，用 0 补齐。"""
    import numpy as np

    from utils.data import pad_sequences

    ids, lengths = pad_sequences([vocab.encode(e.tokens, bos=False, eos=False) for e in examples])
    tags, _ = pad_sequences([[TAGS.index(t) for t in e.tags] for e in examples])
    apple = np.array([e.apple_index for e in examples])
    return ids, tags, lengths, apple


def count_by(examples, *fields) -> dict:
    """按若干字段计数，例如 count_by(train, "lang", "label")。"""
    keyf = lambda e: tuple(getattr(e, f) for f in fields)  # noqa: E731
    return {k: len(list(g)) for k, g in itertools.groupby(sorted(examples, key=keyf), key=keyf)}
