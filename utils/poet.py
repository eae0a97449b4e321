"""第 12 章的写诗：第 6、7 章的解码规则（utils.decoding.generate：体裁、格律、藏头、首句、温度、top-k、top-p）
不变，外面再包几层，都只改“单步函数” step(token_id, state) -> (logits, state)：

- conditioned：按题作诗。generate 第一次调用 step（喂 <bos>）之后，接着把条件（标题或关键词加分隔符，
  utils.conditions）一个个喂进去，返回读完条件之后的 logits；之后照常。
- guided：按题作诗时加强题目的作用（无分类器引导）：并排跑读了题目和没读题目的两遍，把两者对数概率之差放大 guidance 倍；
  只在写前 guided_lines 句时这样做，之后只按题目写（开头定下题材，后面的句子跟着前面的句子走）。
- typical：典型采样（typical sampling，Meister 等 2023）。只留“意外程度”−log p 最接近这一步的熵的那些字，
  累计概率到 typical_p 为止：既不总挑最可能的字（太平），也不挑极不可能的字（太怪）。
- no_repeat：不重复二字组。一句之内相邻的两个字是一个二字组；这首诗里已经写过的二字组，下一个字就不再选它
  （logits 减去 BAN，而不是设成负无穷：万一体裁、格律只剩这样的字可选，仍然写得下去）。

rerank 在写好的几首候选里挑一首：每首在几个打分模型下平均每字的负对数似然之和最小的。打分模型是写诗的模型自己
（从左往右读）和一个从右往左读的模型（把整首诗倒过来训练的，train_ddp --reverse）：后者看的是每句与后文接不接得上。
第 12 章的评判（utils.judge）用的两个打分模型不能用在这里，否则评判就成了被优化的目标。

write 把它们接到框架的单步函数上（两个框架的 writing_step(model) 给出单步函数和初始状态）。
"""
from __future__ import annotations

import argparse
import functools
from typing import Container, Sequence

import numpy as np

from utils.conditions import TITLE, TITLE_CHARS, KeywordPlanner, condition_ids, no_condition
from utils.data import Vocab, load_poems, split_poems
from utils.decoding import POEM_FORMS, DecodingError, StepFn, check_sampling, generate
from utils.numpy_rnn import log_softmax

BAN = 1e4  # 被禁的字的 logits 减去这么多：只要还有别的字可选，它的概率就是 0
# 无分类器引导只在读了条件时概率不低于最可能的字的这么多倍的字里选（guided）。0.01 截掉平均 13.8 % 的概率，诗变“平”，
# 评判的分类器更容易认出；0.001 只截掉 3.2 %（scripts/plausible_cut.py，results/conditions/README.md）
PLAUSIBLE = 0.001
# make poem 默认的解码设置（命令行、评判脚本、写诗小部件共用；repeat_bigrams=False 即不重复二字组）：
# 第 12 章的解码表（results/judge/decoding/）上字 n-gram 分类器最难分辨、distinct-2 与真诗相同的一种；
# 按题作诗时只在前两句加引导 2（第 13 章第 5 节，results/conditions/every_g2_l2.json 与 results/judge/every_own_titles_g2_l2*.json：
# 每步读题的 models/poet.pt 达到 0.8 的题材从三种升到七种，与每句都加引导 1.5 一样多；每句都引导时看连贯的分类器多认出约三个百分点，
# 只引导前两句时与不给题目的相差在两批诗之间的起伏之内）
DEFAULTS = dict(temperature=1.0, top_k=None, top_p=None, typical_p=0.9, repeat_bigrams=False, guidance=2.0,
                guided_lines=2, plan=False)
LINE_ENDS = "，。？！"  # 引导按句数算：喂进这些字就是写完了一句
EVERY_LINE = max(form.lines for form in POEM_FORMS.values())  # 律诗八句：guided_lines 不少于它，近体诗就每句都引导


def add_decoding_arguments(p: argparse.ArgumentParser) -> None:
    """解码设置的命令行参数（make poem 与 scripts.judge_poems 共用，默认值是 DEFAULTS）。"""
    d = DEFAULTS
    p.add_argument("--temperature", type=float, default=d["temperature"],
                   help=f"温度，> 0（默认 {d['temperature']}）")
    p.add_argument("--top-k", type=int, default=d["top_k"] or 0,
                   help=f"只在最可能的 k 个字里抽，0 表示不截断（默认 {d['top_k'] or 0}）")
    p.add_argument("--top-p", type=float, default=d["top_p"],
                   help=f"只在累计概率达到 p 的最可能的字里抽（nucleus；默认 {d['top_p'] or '不用'}）")
    p.add_argument("--typical-p", type=float, default=d["typical_p"],
                   help=f"典型采样：只留意外程度最接近熵的字，累计概率到 p 为止（默认 {d['typical_p'] or '不用'}）")
    p.add_argument("--guidance", type=float, default=d["guidance"],
                   help=f"按题作诗时题目的分量（无分类器引导），1 是不加强，须 ≥ 1（默认 {d['guidance']:g}）")
    p.add_argument("--guided-lines", type=int, default=d["guided_lines"],
                   help=f"引导只用在前几句，之后只按题目写；不少于诗的句数就是每句都引导（默认 {d['guided_lines']}）")
    p.add_argument("--plan", action=argparse.BooleanOptionalAction, default=d["plan"],
                   help="按题作诗时先由题目挑几个关键词，再按关键词写（Jiuge 的规划，utils.conditions.KeywordPlanner）"
                        "（--no-plan：直接按题目写）")
    p.add_argument("--repeat-bigrams", action=argparse.BooleanOptionalAction, default=d["repeat_bigrams"],
                   help="一首诗里可以重复二字组（--no-repeat-bigrams：不重复）")


def decoding_rules(args: argparse.Namespace) -> dict:
    """add_decoding_arguments 给出的参数 -> write 的关键字参数（先检查取值）。"""
    rules = dict(temperature=args.temperature, top_k=args.top_k or None, top_p=args.top_p)
    check_sampling(**rules)
    if args.typical_p is not None and not 0 < args.typical_p <= 1:
        raise DecodingError(f"typical_p 必须在 (0, 1] 之间，收到 {args.typical_p} (typical_p must be in (0, 1])")
    check_guidance(args.guidance, args.guided_lines)
    return rules | dict(typical_p=args.typical_p, repeat_bigrams=args.repeat_bigrams, guidance=args.guidance,
                        guided_lines=args.guided_lines, plan=args.plan)


def check_guidance(guidance: float, guided_lines: int | None = None) -> None:
    if not guidance >= 1:  # 也挡住 NaN
        raise DecodingError(f"guidance 必须 ≥ 1，收到 {guidance} (guidance must be at least 1)")
    if guided_lines is not None and (int(guided_lines) != guided_lines or guided_lines < 1):
        raise DecodingError(f"guided_lines 必须是正整数，收到 {guided_lines} (guided_lines must be a positive integer)")


def conditioned(step: StepFn, condition: Sequence[int]) -> StepFn:
    """第一次调用（喂 <bos>）之后再喂 condition 里的编号，返回最后一个之后的 logits。"""
    fed = False

    def wrapped(token_id, state):
        nonlocal fed
        logits, state = step(token_id, state)
        if not fed:
            fed = True
            for token in condition:
                logits, state = step(token, state)
        return logits, state

    return wrapped


def guided(step: StepFn, condition: Sequence[int], weight: float, baseline: Sequence[int],
           lines: int | None = None, line_ends: Container[int] = ()) -> StepFn:
    """无分类器引导（classifier-free guidance，Ho & Salimans 2022；用于语言模型见 Sanchez 等 2023）：
    同一个模型并排读两遍——一遍读了条件，一遍没有——每步的对数概率取
    log p(·|无条件) + weight × (log p(·|条件) − log p(·|无条件))。
    weight = 1 就是只按条件写；weight > 1 时，条件让哪些字变得更可能，就再往那边推一些。
    放大的是比值，所以一个两边都极不可能的生僻字，只要条件让它的概率翻几番，就会被推到前面；为此只留读了条件时
    概率不低于最可能的字的 PLAUSIBLE 倍的字（Li 等 2023 对比解码的“合理性约束”），其余的减去 BAN。
    “无条件”的那一遍读的是 baseline：不给题目写诗时喂的条件（utils.conditions.no_condition，即空标题）。
    lines 给定时只在写前 lines 句时引导：喂进了 lines 个 line_ends 里的字（句末的标点）之后，只按条件写
    （与 weight = 1 相同，也不再跑没读条件的那一遍）。
    状态是 (读了条件的状态, 没读的状态, 写完了几句)，开始时是 (框架给的初始状态, 同一个, 0)。"""
    with_condition = conditioned(step, condition)
    without = conditioned(step, baseline)

    def wrapped(token_id, state):
        cond_state, plain_state, done = state
        done += token_id in line_ends
        cond_logits, cond_state = with_condition(token_id, cond_state)
        if lines is not None and done >= lines:
            return cond_logits, (cond_state, plain_state, done)
        plain_logits, plain_state = without(token_id, plain_state)
        plain, cond = (log_softmax(np.asarray(z, dtype=np.float64)) for z in (plain_logits, cond_logits))
        mixed = plain + weight * (cond - plain)
        mixed[implausible(cond)] -= BAN
        return mixed, (cond_state, plain_state, done)

    return wrapped


def implausible(log_p: np.ndarray, cut: float | None = None) -> np.ndarray:
    """合理性约束去掉的字：对数概率 log_p 下，概率低于最可能的字的 cut 倍（默认 PLAUSIBLE）的那些。"""
    return log_p < log_p.max() + np.log(PLAUSIBLE if cut is None else cut)


def typical(step: StepFn, mass: float) -> StepFn:
    """典型采样：按 |−log p − H| 从小到大取字，累计概率到 mass 为止，其余的字 logits 减去 BAN。
    p 是模型原本的分布（温度之前），H 是它的熵。"""
    def wrapped(token_id, state):
        logits, state = step(token_id, state)
        z = np.array(logits, dtype=np.float64)
        log_p = log_softmax(z)
        p = np.exp(log_p)
        order = np.argsort(np.abs(-log_p - float(-(p * log_p).sum())), kind="stable")
        keep = order[: int(np.searchsorted(np.cumsum(p[order]), mass)) + 1]
        out = z - BAN
        out[keep] = z[keep]
        return out, state

    return wrapped


def no_repeat(step: StepFn, vocab: Vocab) -> StepFn:
    """这首诗里写过的二字组（同一句里相邻的两个字）不再写第二次。第一次调用喂的是 <bos>，
    之后每次喂的都是上一步写出的字，所以这里看得到写过的全部字。"""
    han = np.array([len(w) == 1 and "\u4e00" <= w <= "\u9fff" for w in vocab.id2word])
    seen: dict[int, set[int]] = {}
    previous = None

    def wrapped(token_id, state):
        nonlocal previous
        if previous is not None and han[previous] and han[token_id]:
            seen.setdefault(previous, set()).add(token_id)
        previous = token_id
        logits, state = step(token_id, state)
        banned = seen.get(token_id)
        if banned and han[token_id]:
            logits = np.array(logits, dtype=np.float64)
            logits[list(banned)] -= BAN
        return logits, state

    return wrapped


def write(step: StepFn, state, vocab: Vocab, *, title: str | None = None, keywords: Sequence[str] | None = None,
          guidance: float = 1.0, guided_lines: int | None = None, plan: bool = False, typical_p: float | None = None,
          repeat_bigrams: bool = True, **rules) -> str:
    """写一首诗：step、state 来自框架的 writing_step(model)；rules 是 generate 的参数（form、metre、acrostic、
    prefix、temperature、top_k、top_p、rng…）；title 或 keywords 给定时按题作诗（模型要是用 --conditions 训练的）；
    plan=True 且给了题目时，先由题目挑关键词（training_planner），按关键词写（挑不出时直接按题目写）；
    guidance > 1 时按题作诗用无分类器引导（guided；guided_lines 给定时只引导前几句）；typical_p 给定时典型采样；repeat_bigrams=False 时不重复二字组。"""
    check_guidance(guidance, guided_lines)
    if plan and title is not None:
        condition_ids_checked(vocab, title, keywords)  # 先照常检查题目
        rng = np.random.default_rng(rules.get("rng"))  # 挑词与写诗用同一个随机数生成器：同一个种子写同一首
        # 只挑字都在模型词表里的词；挑不出时直接按题目写
        words, rules = training_planner().plan(title, rng, known=vocab.word2id), rules | dict(rng=rng)
        if words:
            title, keywords = None, words
    if title is not None or keywords is not None:
        condition = condition_ids_checked(vocab, title, keywords)
        if guidance > 1:
            line_ends = {vocab.word2id[c] for c in LINE_ENDS if c in vocab.word2id}
            step = guided(step, condition, guidance, no_condition(vocab), guided_lines, line_ends)
            state = (state, state, 0)
        else:
            step = conditioned(step, condition)
    else:  # 学过按题作诗的模型，不给题目时给它空标题（utils.conditions.no_condition）
        step = conditioned(step, no_condition(vocab))
    if typical_p is not None and typical_p < 1:
        step = typical(step, typical_p)
    if not repeat_bigrams:
        step = no_repeat(step, vocab)
    return generate(step, state, vocab, **rules)


def condition_ids_checked(vocab: Vocab, title: str | None, keywords: Sequence[str] | None) -> list[int]:
    """检查标题、关键词（中文说明，与命令行的其他错误一样），再编成条件的编号。"""
    if TITLE not in vocab.word2id:
        raise DecodingError("这个模型没有学过按题作诗（训练时没有加 --conditions） (this model takes no title)")
    if title is not None and keywords is not None:
        raise DecodingError("标题和关键词只能给一种 (give a title or keywords, not both)")
    words = [title] if title is not None else list(keywords)
    if not words or not all(w and w.strip() for w in words):
        raise DecodingError("标题或关键词不能为空 (the title or a keyword is empty)")
    if len("".join("".join(words).split())) > TITLE_CHARS:  # 训练时标题只取前 TITLE_CHARS 个字
        raise DecodingError(f"题目或关键词太长：最多 {TITLE_CHARS} 个字 (at most {TITLE_CHARS} characters)")
    missing = vocab.missing("".join(words).replace(" ", ""))
    if missing:
        raise DecodingError(f"这些字不在词表里：{' '.join(missing)}"
                            f" (characters not in the vocabulary: {' '.join(missing)})")
    return condition_ids(vocab, title, keywords)


@functools.cache
def training_planner() -> KeywordPlanner:
    """在训练集的真诗上建的关键词规划（第一次用时建，约 1 秒）。"""
    train = split_poems(load_poems())[0]
    return KeywordPlanner([p.content for p in train], [p.title for p in train])


def reversed_poem(content: str) -> str:
    """整首诗倒过来（标点也在内）：从右往左读的模型就用这样的诗训练、打分。"""
    return content[::-1]


def rerank(candidates: Sequence[str], scorers: Sequence) -> int:
    """候选里最好的一首的下标：在 scorers（每个是 utils.judge.Scorer：文字 -> 逐字负对数似然）下
    平均每字负对数似然之和最小的。"""
    if not candidates:
        raise ValueError("没有候选 (no candidates)")
    totals = np.zeros(len(candidates))
    for score in scorers:
        totals += [nll.mean() for nll in score(list(candidates))]
    return int(np.argmin(totals))
