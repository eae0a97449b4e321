"""第 2 章的标注数据：句子里的 apple / 苹果 是水果（FRUIT）还是公司（COMPANY）？

句子由模板生成，英文与中文（中文用 jieba 分词）各一半。每个模板有一个“线索”：
  side="left"  线索在 apple 之前（"i like eating apple"）
  side="right" 线索在 apple 之后（"the apple is a great company"），apple 之前只有
               两类共用的开头（the / this / 我觉得 ……），从左边看不出是哪一类。
每个 (语言, 标签, 线索位置) 组合的模板数、每个模板的句子数都相同，所以两类 apple 各占一半。
模板 = 句式（FRAMES，两类共用）× 线索短语（CUES）。测试集用训练时没见过的搭配：每个句式、
每个线索都在训练集里出现过，但在测试句子里是新组合，考的是“认出线索”这种泛化，而不是记住整句。
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
# I 是加在每句最前面的时间/语气词（两类共用，不是线索）。
FILLERS = {
    "en": {
        "P": ["i", "we", "you", "they", "my parents", "our teachers", "the kids"],
        "F": ["red", "green", "ripe", "sweet", "juicy", "fresh"],
        "PRE": ["the", "this", "that", "i think the", "{P} said the", "everyone knows the", "look , the"],
        "I": ["", "yesterday", "today", "last week", "in the morning", "by the way", "i heard that"],
    },
    "zh": {
        "P": ["小明", "小红", "妈妈", "老师", "哥哥", "我", "她"],
        "PRE": ["", "这个", "那个", "我觉得", "{P}说", "大家都知道", "你看，"],
        "I": ["", "昨天", "今天", "上周", "听说", "其实", "据说"],
    },
}

# 句式（两类共用，本身不含线索）：{C} 处填线索短语，{A} 处是 apple / 苹果
FRAMES = {
    ("en", "left"): ["{P} {C} {A} .", "{P} often {C} {A} .", "i think {P} {C} {A} .",
                     "every week {P} {C} {A} ."],
    ("en", "right"): ["{PRE} {A} {C} .", "{PRE} {A} really {C} .", "{PRE} {A} {C} , they say .",
                      "{PRE} {A} probably {C} ."],
    ("zh", "left"): ["{P}{C}{A}。", "{P}也{C}{A}。", "听说{P}{C}{A}。", "{P}经常{C}{A}。"],
    ("zh", "right"): ["{PRE}{A}{C}。", "{PRE}{A}真的{C}。", "{PRE}{A}{C}，大家都这么说。",
                      "{PRE}{A}好像{C}。"],
}

# 线索短语：(语言, 标签, 线索位置) -> 短语列表
CUES = {
    ("en", "FRUIT", "left"): ["like eating", "peel the", "pick a {F}", "wash a",
                              "take a bite of the", "bake a pie with one"],
    ("en", "FRUIT", "right"): ["is sweet and juicy", "fell from the tree", "tastes {F}",
                               "has a worm inside", "was grown on a farm", "is a fruit"],
    ("en", "COMPANY", "left"): ["buy shares of", "work as engineers at", "meet the ceo of",
                                "get job offers from", "check the stock price of", "invest in"],
    ("en", "COMPANY", "right"): ["is a great company", "released a new phone", "hired many engineers",
                                 "announced record profits", "opened a store in shanghai",
                                 "earns billions every year"],
    ("zh", "FRUIT", "left"): ["喜欢吃", "削了一个", "从树上摘了一个", "洗了一个", "咬了一口", "在水果店买了"],
    ("zh", "FRUIT", "right"): ["又甜又脆", "熟透了", "从树上掉下来了", "里面有虫子", "很新鲜",
                               "是一种水果"],
    ("zh", "COMPANY", "left"): ["很崇拜科技公司", "跳槽去", "入职了", "买了很多股票，其中有",
                                "投资了科技公司", "要去面试科技公司"],
    ("zh", "COMPANY", "right"): ["是一家很棒的公司", "的股价上涨了", "公布了季度财报",
                                 "招聘了很多工程师", "在上海开了新店", "发布了新手机"],
}


def is_test_template(frame: int, cue: int) -> bool:
    """(句式, 线索) 组合的四分之一只进测试集：每个句式、每个线索在训练集里都以别的组合出现过，
    测试句子是它们的新搭配（训练时从未见过的模板）。"""
    return (frame + cue) % len(FRAMES[("en", "left")]) == 0


def templates():
    """全部模板：[(键 (语言, 标签, 线索位置), 句式编号, 线索编号, 模板文本)]。"""
    out = []
    for (lang, label, side), cues in CUES.items():
        for f, frame in enumerate(FRAMES[(lang, side)]):
            for c, cue in enumerate(cues):
                out.append(((lang, label, side), f, c, frame.replace("{C}", cue)))
    return out


@dataclass(frozen=True)
class Example:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    lang: str
    label: str          # 这句里 apple 的标签
    side: str           # 线索在 apple 的 "left" 还是 "right"
    template: str       # 模板名，如 "en-FRUIT-left-f1-c3"（句式 1、线索 3）

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


def _examples(key, name: str, template: str, n: int, rng: random.Random) -> list[Example]:
    """一个模板生成至多 n 个不重复的句子。"""
    lang, label, side = key
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
        out.append(Example(tokens, tags, lang, label, side, name))
        if len(out) == n:
            break
    return out


def make_apple_data(n_per_template: int = 10, seed: int = 0):
    """返回 (train, test) 两个 Example 列表；测试集的模板（句式与线索的搭配）训练时从未出现。

    为了让两类严格平衡，每个模板取同样多的句子（不够时取各模板不重复句子数的最小值）。
    """
    if n_per_template < 1:
        raise ValueError(f"n_per_template 至少为 1，得到 {n_per_template} (must be >= 1)")
    rng = random.Random(seed)
    generated = [(is_test_template(f, c), _examples(key, f"{'-'.join(key)}-f{f}-c{c}", text,
                                                    n_per_template, rng))
                 for key, f, c, text in templates()]
    n = min(len(examples) for _, examples in generated)
    train = [e for is_test, examples in generated if not is_test for e in examples[:n]]
    test = [e for is_test, examples in generated if is_test for e in examples[:n]]
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
