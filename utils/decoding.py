"""解码规则：从模型给出的 logits 里挑下一个字。只用 NumPy，TensorFlow 与 PyTorch 两章共用。

模型一侧只需提供一个“单步函数” step(token_id, state) -> (logits[V], new_state)：
读入一个字和上一步的状态，返回下一个字的 logits 和新状态。状态由模型自己携带，
本模块只把它原样传回去，所以每一步的计算量相同，不必重算前缀。

规则：温度（temperature）、top-k、top-p（核采样）、给定开头（首字或首句）、
体裁约束（五绝 / 七绝 / 五律 / 七律：每句字数、标点位置、句数都对）、藏头诗。
输入有误时抛出 DecodingError，信息中文在前、英文在后。
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from utils.data import FORM_ALIASES, HAN, Vocab

StepFn = Callable[[int, Any], tuple[np.ndarray, Any]]

_HAN_CHAR = re.compile(f"^[{HAN}]$")


class DecodingError(ValueError):
    """生成参数有误（字不在词表里、藏头字太多、温度不为正……）。"""


# ---------------------------------------------------------------- 体裁

@dataclass(frozen=True)
class PoemForm:
    """整齐的近体诗：lines 句，每句 chars 个字；单数句后是“，”，双数句后是“。”。"""

    name: str
    chars: int
    lines: int

    def __len__(self) -> int:
        """正文总长度（含标点，不含 <bos>/<eos>）。"""
        return self.lines * (self.chars + 1)

    def slot(self, position: int) -> str | None:
        """正文第 position 个位置应是什么：None 表示一个汉字，否则是该处的标点。"""
        line, offset = divmod(position, self.chars + 1)
        if offset < self.chars:
            return None
        return "，" if line % 2 == 0 else "。"


POEM_FORMS = {f.name: f for f in (PoemForm("五言绝句", 5, 4), PoemForm("七言绝句", 7, 4),
                                   PoemForm("五言律诗", 5, 8), PoemForm("七言律诗", 7, 8))}


def get_form(form: str | PoemForm | None) -> PoemForm | None:
    """体裁名（“五言绝句”或简称“五绝”）-> PoemForm；None 表示不限体裁。"""
    if form is None or isinstance(form, PoemForm):
        return form
    name = FORM_ALIASES.get(form, form)
    if name not in POEM_FORMS:
        raise DecodingError(f"未知体裁 {form!r}；可选 {list(POEM_FORMS)} 或 {list(FORM_ALIASES)}"
                            f" (unknown form {form!r})")
    return POEM_FORMS[name]


# ---------------------------------------------------------------- 采样

def check_sampling(temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None) -> None:
    """检查采样参数：温度 > 0，top_k ≥ 1，0 < top_p ≤ 1。"""
    if not np.isfinite(temperature) or temperature <= 0:
        raise DecodingError(f"温度必须是正数，收到 {temperature}；想要最可能的字请用 top_k=1"
                            f" (temperature must be > 0; use top_k=1 for greedy decoding)")
    if top_k is not None and (int(top_k) != top_k or top_k < 1):
        raise DecodingError(f"top_k 必须是正整数，收到 {top_k} (top_k must be a positive integer)")
    if top_p is not None and not 0 < top_p <= 1:
        raise DecodingError(f"top_p 必须在 (0, 1] 之间，收到 {top_p} (top_p must be in (0, 1])")


def next_token_probs(logits, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None, allowed: np.ndarray | None = None) -> np.ndarray:
    """把 logits 变成下一个字的概率分布。

    顺序：屏蔽不允许的字（allowed 为 False）-> 除以温度 -> 只留 top-k -> 只留累计概率
    达到 top_p 的最小集合 -> 重新归一化。
    """
    check_sampling(temperature, top_k, top_p)
    z = np.asarray(logits, dtype=np.float64).reshape(-1) / temperature
    if allowed is not None:
        if not allowed.any():
            raise DecodingError("没有任何字可选 (no token is allowed)")
        z = np.where(allowed, z, -np.inf)
    if top_k is not None and top_k < np.isfinite(z).sum():
        kth = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= kth, z, -np.inf)
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, kind="stable")
        # 保留前面累计概率还没到 top_p 的字，再加上跨过 top_p 的那一个
        keep = order[: int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1]
        kept = np.zeros_like(probs)
        kept[keep] = probs[keep]
        probs = kept / kept.sum()
    return probs


def sample_next(logits, rng: np.random.Generator, **rules) -> int:
    """按 next_token_probs 的分布抽一个字的编号。"""
    probs = next_token_probs(logits, **rules)
    return int(rng.choice(len(probs), p=probs))


# ---------------------------------------------------------------- 生成计划：哪些位置强制、哪些受限

class PoemPlan:
    """一次生成的约束：开头（prefix）、藏头字（acrostic）、体裁（form）。构造时检查输入。"""

    def __init__(self, vocab: Vocab, prefix: str = "", acrostic: str | None = None,
                 form: str | PoemForm | None = None):
        self.vocab = vocab
        self.form = get_form(form)
        self.prefix = prefix or ""
        if acrostic is not None:
            acrostic = acrostic.strip()
            if not acrostic:
                raise DecodingError("藏头字不能为空 (the acrostic is empty)")
            not_han = [ch for ch in acrostic if not _HAN_CHAR.match(ch)]
            if not_han:
                raise DecodingError(f"藏头字只能是汉字，这些不是：{' '.join(not_han)}"
                                    f" (acrostic characters must be Chinese characters)")
            if self.form is None:  # 没给体裁时按藏头字数选七绝或七律
                self.form = POEM_FORMS["七言绝句" if len(acrostic) <= 4 else "七言律诗"]
            if len(acrostic) > self.form.lines:
                raise DecodingError(
                    f"藏头字有 {len(acrostic)} 个，但{self.form.name}只有 {self.form.lines} 句"
                    f" (the acrostic has {len(acrostic)} characters, the form only "
                    f"{self.form.lines} lines)")
        self.acrostic = acrostic or ""
        missing = vocab.missing(self.prefix + self.acrostic)
        if missing:
            raise DecodingError(f"这些字不在词表里：{' '.join(missing)}"
                                f" (characters not in the vocabulary: {' '.join(missing)})")
        self._forced = self._forced_chars()
        # 不限体裁时：除 <pad>/<unk>/<bos> 外都可选（<eos> 可选，表示结束）
        self._free = np.ones(len(vocab), dtype=bool)
        self._free[[vocab.pad_id, vocab.unk_id, vocab.bos_id]] = False
        self._han = np.array([bool(_HAN_CHAR.match(w)) for w in vocab.id2word])

    def _forced_chars(self) -> dict[int, str]:
        """位置 -> 该处必须出现的字（来自开头和藏头字），并检查它们与体裁相容。"""
        forced = dict(enumerate(self.prefix))
        if self.form is None:
            return forced
        if len(self.prefix) > len(self.form):
            raise DecodingError(f"开头比{self.form.name}全诗还长 (the prefix is longer than the poem)")
        for line, ch in enumerate(self.acrostic):
            position = line * (self.form.chars + 1)
            if forced.setdefault(position, ch) != ch:
                raise DecodingError(f"开头第 {position + 1} 个字“{forced[position]}”与藏头字“{ch}”冲突"
                                    f" (the prefix conflicts with the acrostic)")
        for position, ch in forced.items():
            slot = self.form.slot(position)
            if (slot is None) != bool(_HAN_CHAR.match(ch)) or (slot is not None and slot != ch):
                want = "一个汉字" if slot is None else f"“{slot}”"
                raise DecodingError(f"开头不合{self.form.name}：第 {position + 1} 个位置应是{want}，"
                                    f"却是“{ch}” (the prefix does not fit the form)")
        return forced

    @property
    def max_len(self) -> int | None:
        """有体裁时正文的确切长度，否则 None。"""
        return None if self.form is None else len(self.form)

    def forced(self, position: int) -> int | None:
        """正文第 position 个位置若已确定，返回其编号（体裁结束处是 <eos>）。"""
        if position in self._forced:
            return self.vocab.word2id[self._forced[position]]
        if self.form is None:
            return None
        if position >= len(self.form):
            return self.vocab.eos_id
        slot = self.form.slot(position)
        return None if slot is None else self.vocab.word2id[slot]

    def allowed(self, position: int) -> np.ndarray:
        """正文第 position 个位置可选的字（布尔掩码）：有体裁时只能是汉字。"""
        return self._free if self.form is None else self._han


def generate(step: StepFn, state: Any, vocab: Vocab, *, prefix: str = "",
             acrostic: str | None = None, form: str | PoemForm | None = None,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             max_len: int = 128, rng: np.random.Generator | int | None = None) -> str:
    """从 <bos> 开始逐字生成一首诗，到 <eos> 或 max_len 个字为止，返回正文。

    step(token_id, state) -> (logits, new_state) 由模型提供（见各框架的 gen）。
    prefix 是给定的开头（首字或首句），acrostic 是藏头字，form 是体裁（“五绝”等）。
    给了体裁时生成的诗一定合乎体裁（字数、标点、句数），与 max_len 无关。
    """
    check_sampling(temperature, top_k, top_p)
    plan = PoemPlan(vocab, prefix, acrostic, form)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    limit = plan.max_len + 1 if plan.max_len is not None else max_len
    token, out = vocab.bos_id, []
    for position in range(limit):
        logits, state = step(token, state)
        token = plan.forced(position)
        if token is None:
            token = sample_next(logits, rng, temperature=temperature, top_k=top_k, top_p=top_p,
                                allowed=plan.allowed(position))
        if token == vocab.eos_id:
            break
        out.append(token)
    return vocab.decode(out)
