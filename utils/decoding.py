"""解码规则：从模型给出的 logits 里挑下一个字。只用 NumPy，TensorFlow 与 PyTorch 两章共用。

模型一侧只需提供一个“单步函数” step(token_id, state) -> (logits[V], new_state)：
读入一个字和上一步的状态，返回下一个字的 logits 和新状态。状态由模型自己携带，
本模块只把它原样传回去，所以每一步的计算量相同，不必重算前缀。

规则：温度（temperature）、top-k、top-p（核采样）、给定开头（首字或首句）、
体裁约束（五绝 / 七绝 / 五律 / 七律：每句字数、标点位置、句数都对）、藏头诗，
以及格律约束（metre：按近体诗的平仄谱放平声字、仄声字，不出孤平、三平尾，韵脚押同一个平水韵平声韵部、
不重复，多音字按主要读法算）。
输入有误时抛出 DecodingError，信息中文在前、英文在后。
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from utils.data import FORM_ALIASES, HAN, REGULAR_FORMS, Vocab, form_shape
from utils.metre import classical_tone, completable, metre_patterns, rhyme_groups, rhyme_table

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


POEM_FORMS = {name: PoemForm(name, *form_shape(name)) for name in REGULAR_FORMS}


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


# ---------------------------------------------------------------- 格律：平仄谱与韵脚

def find_rhyme(name: str) -> str:
    """韵部名 -> 平水韵的平声韵部名。可写“下平七阳”“下平声七阳”，或只写韵目“阳”。"""
    table = rhyme_table()
    ping = [group for group, (tone, _) in table.items() if tone == "平"]
    name = name.strip().replace("平声", "平")
    for group in ping:
        if name in (group, group[-1]):
            return group
    if name in table:
        raise DecodingError(f"{name} 是{table[name][0]}声韵，近体诗押平声韵；可选：{'、'.join(ping)}"
                            f" (regulated verse rhymes on a level-tone group)")
    raise DecodingError(f"未知韵部 {name!r}；可选：{'、'.join(ping)} (unknown rhyme group {name!r})")


class Metre:
    """格律约束：从与开头相容的平仄谱里随机选一种，逐个位置给出可选的字。

    谱里是“平”的位置只放古平仄表（统计表）里“平”或“中”（可平可仄）的字，“仄”同理；“中”的位置
    （一三五不论）任何汉字都行，但不能因此出现孤平或三平尾：每一步都先看这句已经写出的字，只允许
    还能把这句补成没有孤平、三平尾的字（utils.metre.completable）。句末为“平”的位置是韵脚：
    韵脚字都属于同一个平声韵部（rhyme 给定时就是它；否则第一个韵脚由模型在所有平声韵部的字里挑，
    之后的韵脚跟着它），且互不重复；多音字只按它的主要读法算韵部（utils.metre.rhyme_groups）。
    古平仄表里查不到的字只放在不论的位置。
    """

    def __init__(self, vocab: Vocab, form: PoemForm, forced: dict[int, str],
                 rhyme: str | None, rng: np.random.Generator):
        self.vocab, self.chars = vocab, form.chars
        tones = np.array([classical_tone(w) for w in vocab.id2word])
        han = np.array([bool(_HAN_CHAR.match(w)) for w in vocab.id2word])
        self.fits = {"平": np.isin(tones, ("平", "中")), "仄": np.isin(tones, ("仄", "中")), "中": han}
        # 按字的平仄分三类：确是平、确是仄、两可（“中”或查不到）；孤平、三平尾只由前两类造成
        self.kinds = {"平": tones == "平", "仄": tones == "仄", "中": han & ~np.isin(tones, ("平", "仄"))}
        # 每个平声韵部在词表里的字（须是平声，按主要读法），只留够押满全诗韵脚的韵部
        wanted = find_rhyme(rhyme) if rhyme is not None else None
        self.rhyme_masks = {}
        for i in np.flatnonzero(self.fits["平"]):
            for group in rhyme_groups(vocab.id2word[i]):
                self.rhyme_masks.setdefault(group, np.zeros(len(vocab), bool))[i] = True
        need = form.lines // 2 + 1
        self.rhyme_masks = {g: m for g, m in self.rhyme_masks.items()
                            if m.sum() >= need and wanted in (None, g)}
        if not self.rhyme_masks or not self.fits["仄"].any():
            what = f"韵部 {wanted}" if wanted else "任何一个平声韵部"
            raise DecodingError(f"词表里{what}的平声字不够押 {need} 个韵，或没有仄声字"
                                f" (the vocabulary has too few rhyme or oblique-tone characters)")
        patterns = {name: p for name, p in metre_patterns(form.chars, form.lines).items()
                    if self._fits(p, forced)}
        if not patterns:
            given = "".join(forced.get(i, "_") for i in range(max(forced, default=-1) + 1))
            rhymed = f"（押{wanted}）" if wanted else ""
            raise DecodingError(f"开头“{given}”不合{form.name}{rhymed}的任何一种平仄谱（平起、仄起，首句入韵与否；"
                                f"不许孤平、三平尾和重复的韵脚）"
                                f" (the given characters fit no regulated tone pattern)")
        self.name = list(patterns)[rng.integers(len(patterns))]
        self.pattern = patterns[self.name]
        self.rhymes = [line * (self.chars + 1) + self.chars - 1
                       for line, tones in enumerate(self.pattern) if tones[-1] == "平"]

    def _fits(self, pattern: list[str], forced: dict[int, str]) -> bool:
        """给定的字（开头、藏头字）是否合这个谱：平仄相合，所在的句子还能避开孤平、三平尾，
        韵脚同属一个可用的韵部、不重复（也不重复首句的末字）。"""
        groups, used, fixed = set(self.rhyme_masks), set(), {}
        for position, ch in forced.items():
            line, offset = divmod(position, self.chars + 1)
            if offset == self.chars:  # 标点
                continue
            need = pattern[line][offset]
            tone = classical_tone(ch)
            if need != "中" and tone not in (need, "中", "?"):
                return False
            fixed.setdefault(line, {})[offset] = tone if tone in ("平", "仄") else "中"
            if offset == self.chars - 1 and (need == "平" or line == 0):  # 韵脚，或首句的末字
                if need == "平":
                    groups &= rhyme_groups(ch)
                if not groups or ch in used:
                    return False
                used.add(ch)
        return all(completable(pattern[line], marks) for line, marks in fixed.items())

    def allowed(self, position: int, out: list[int]) -> np.ndarray:
        """正文第 position 个位置（必是汉字）可选的字；out 是前面已经写出的字的编号。"""
        line, offset = divmod(position, self.chars + 1)
        need = self.pattern[line][offset]
        if position not in self.rhymes:
            mask = self.fits[need]
        else:
            # 韵脚：与前面的韵脚有共同的韵部（按主要读法），且不重复
            previous = [out[p] for p in self.rhymes if p < position]
            groups = set(self.rhyme_masks)
            for token in previous:
                groups &= rhyme_groups(self.vocab.id2word[token])
            mask = np.any([self.rhyme_masks[g] for g in groups], axis=0)
            # 首句的末字不入韵时也不能在后面当韵脚再用一次（classical_rhymes 也这样判）
            first_end = self.chars - 1
            mask[previous + ([out[first_end]] if first_end < position else [])] = False
        # 孤平、三平尾：这句已经写出的字，加上这一类字，还能不能补成一句没有毛病的
        start = position - offset
        written = {i: classical_tone(self.vocab.id2word[t]) for i, t in enumerate(out[start:position])}
        written = {i: m if m in ("平", "仄") else "中" for i, m in written.items()}
        kinds = [k for k in ("平", "仄", "中") if completable(self.pattern[line], {**written, offset: k})]
        return mask & np.any([self.kinds[k] for k in kinds], axis=0)


# ---------------------------------------------------------------- 生成计划：哪些位置强制、哪些受限

class PoemPlan:
    """一次生成的约束：开头（prefix）、藏头字（acrostic）、体裁（form）、格律（metre、rhyme）。

    构造时检查输入。metre=True 时 rng 用来在相容的平仄谱里选一种。
    """

    def __init__(self, vocab: Vocab, prefix: str = "", acrostic: str | None = None,
                 form: str | PoemForm | None = None, metre: bool = False, rhyme: str | None = None,
                 rng: np.random.Generator | None = None):
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
        # 不限体裁时：除 <pad>/<unk>/<bos> 和按题作诗的分隔符（utils.conditions）外都可选（<eos> 可选，表示结束）
        self._free = np.array([not (w.startswith("<") and w.endswith(">")) for w in vocab.id2word])
        self._free[vocab.eos_id] = True
        self._han = np.array([bool(_HAN_CHAR.match(w)) for w in vocab.id2word])
        if rhyme is not None and not metre:
            raise DecodingError("指定韵部要同时打开格律约束 (rhyme needs metre=True)")
        if metre and self.form is None:
            raise DecodingError("格律约束要先定体裁：五绝、七绝、五律或七律 (metre needs a form)")
        if rng is None:
            rng = np.random.default_rng()
        self.metre = Metre(vocab, self.form, self._forced, rhyme, rng) if metre else None

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

    def allowed(self, position: int, out: list[int]) -> np.ndarray:
        """正文第 position 个位置可选的字（布尔掩码）：有体裁时只能是汉字，有格律时再按平仄谱和韵脚。
        out 是前面已经写出的字的编号。"""
        if self.metre is not None:
            return self.metre.allowed(position, out)
        return self._free if self.form is None else self._han


def generate(step: StepFn, state: Any, vocab: Vocab, *, prefix: str = "",
             acrostic: str | None = None, form: str | PoemForm | None = None,
             metre: bool = False, rhyme: str | None = None,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             max_len: int = 128, rng: np.random.Generator | int | None = None) -> str:
    """从 <bos> 开始逐字生成一首诗，到 <eos> 或 max_len 个字为止，返回正文。

    step(token_id, state) -> (logits, new_state) 由模型提供（见各框架的 gen）。
    prefix 是给定的开头（首字或首句），acrostic 是藏头字，form 是体裁（“五绝”等）。
    给了体裁时生成的诗一定合乎体裁（字数、标点、句数），与 max_len 无关。
    metre=True 时还合乎平仄谱并押平水韵（要有体裁）；rhyme 指定韵部，如“下平七阳”。
    不合规则的字在 top-k、top-p 之前就屏蔽掉，所以 top-k 是在允许的字里取最可能的 k 个。
    """
    check_sampling(temperature, top_k, top_p)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    plan = PoemPlan(vocab, prefix, acrostic, form, metre, rhyme, rng)
    limit = plan.max_len + 1 if plan.max_len is not None else max_len
    token, out = vocab.bos_id, []
    for position in range(limit):
        logits, state = step(token, state)
        token = plan.forced(position)
        if token is None:
            token = sample_next(logits, rng, temperature=temperature, top_k=top_k, top_p=top_p,
                                allowed=plan.allowed(position, out))
        if token == vocab.eos_id:
            break
        out.append(token)
    return vocab.decode(out)
