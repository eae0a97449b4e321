"""评价写出来的诗：困惑度、字 n-gram 基线、体裁、押韵、平仄、多样性与照抄，以及训练的计算量。
只用 NumPy、pypinyin 与 utils.metre 的两张格律表。

约定（TensorFlow、PyTorch 两章与本模块一致）：每首诗的编号序列是 <bos> 字… <eos>，
计分的是 <bos> 之后的每个字，<eos> 也算；困惑度 = exp(负对数似然之和 / 字数)。

押韵与平仄有两套尺子。rhymes、tones、tone_checks 用 pypinyin 的现代普通话读音，只是近似：
入声已经消失（“白、十、国”今读平声，当年是仄声），不少韵部的读音也变了。
classical_rhymes、classical_tones、classical_tone_checks 用平水韵和唐诗自己的平仄标注（utils.metre）。
两套尺子真诗都达不到 100 %；拿测试集里的真诗算出同样的统计，作为“好”的参照。
"""
from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from typing import Callable, Iterable, Sequence

import numpy as np

from utils.data import REGULAR_FORMS, Vocab, poem_form, poem_lines
from utils.metre import classical_tone, level_tail, lone_level, rhyme_groups



# ---------------------------------------------------------------- 困惑度

def perplexity(nll_sum: float, n_tokens: int) -> float:
    """困惑度 = exp(负对数似然之和 / 字数)，负对数似然以 nats（自然对数）计。"""
    if n_tokens <= 0:
        raise ValueError(f"字数必须为正，收到 {n_tokens} (the token count must be positive)")
    return math.exp(nll_sum / n_tokens)


def count_tokens(seqs: Iterable[Sequence[int]]) -> int:
    """要计分的字数：每首诗 <bos> 之后的字（含 <eos>），即 len(seq) - 1 之和。"""
    return sum(len(s) - 1 for s in seqs)


# ---------------------------------------------------------------- 字 n-gram 基线

class NGramModel:
    """插值 Kneser-Ney 字 n-gram（每阶一个折扣 0 < D < 1，即带 KN 接续计数的绝对折扣）。

    P_k(w|h) = max(c_k(hw) - D_k, 0) / c_k(h·) + D_k · N1+(h·) / c_k(h·) · P_{k-1}(w|h')
    h' 是 h 去掉最前面一个字；上下文 h 从没见过时 P_k = P_{k-1}；
    P_0 是在可预测的字（除 <pad>、<bos> 外的整个词表）上的均匀分布。
    最高阶用原始次数；低阶用“接续次数” N1+(·hw)（hw 前面出现过多少种不同的字），
    但以 <bos> 开头的 n-gram 前面不可能再有字，仍用原始次数（与 KenLM 的做法相同）。
    order=1 就是（带一点折扣的）字频 unigram。

    n-gram 编成一个 int64 整数（以词表大小为进制），用 np.unique 计数、np.searchsorted 查表，
    在 200 多万字的训练集上拟合只需几秒。
    """

    def __init__(self, order: int, vocab_size: int, pad_id: int = Vocab.pad_id,
                 bos_id: int = Vocab.bos_id):
        if order < 1:
            raise ValueError(f"阶数至少为 1，收到 {order} (order must be >= 1)")
        if vocab_size ** order >= 2 ** 63:
            raise ValueError(f"词表 {vocab_size} 的 {order} 阶 n-gram 编号超出 int64 (too large)")
        self.order, self.vocab_size, self.bos_id = order, vocab_size, bos_id
        self.predictable = np.ones(vocab_size, dtype=bool)
        self.predictable[[pad_id, bos_id]] = False
        self.discounts = np.full(order, 0.75)
        self.tables: list[dict[str, np.ndarray]] = []

    # ---- 把序列切成 n-gram 矩阵
    def _windows(self, seqs: Iterable[Sequence[int]]) -> np.ndarray:
        """每个要预测的字一行：[前 order-1 个字…, 该字]，诗开头前不存在的位置填 -1。"""
        seqs = [np.asarray(s, dtype=np.int64) for s in seqs]
        rows = []
        for s in seqs:
            padded = np.concatenate([np.full(self.order - 1, -1, dtype=np.int64), s])
            # 第 i 行是 padded[i : i+order]，目标是 s[i]；只取 i >= 1（<bos> 本身不预测）
            view = np.lib.stride_tricks.sliding_window_view(padded, self.order)
            rows.append(view[1:])
        if not rows:
            return np.empty((0, self.order), dtype=np.int64)
        return np.concatenate(rows)

    def _keys(self, grams: np.ndarray, k: int) -> np.ndarray:
        """最后 k 列编成一个整数。"""
        key = np.zeros(len(grams), dtype=np.int64)
        for col in range(self.order - k, self.order):
            key = key * self.vocab_size + grams[:, col]
        return key

    # ---- 拟合
    def fit(self, seqs: Iterable[Sequence[int]], valid: Iterable[Sequence[int]] | None = None
            ) -> "NGramModel":
        """在训练序列上计数；给了 valid 时在验证集上逐阶搜索折扣 D（坐标下降）。"""
        grams = self._windows(seqs)
        raw = []
        for k in range(1, self.order + 1):
            usable = (grams[:, self.order - k:] >= 0).all(axis=1)
            keys, counts = np.unique(self._keys(grams[usable], k), return_counts=True)
            raw.append((keys, counts))
        self.tables = []
        for k in range(1, self.order + 1):
            keys, counts = raw[k - 1]
            counts = counts.astype(np.float64)
            if k < self.order:
                # 接续次数：有多少种不同的 (k+1)-gram 以它结尾
                longer = raw[k][0] % self.vocab_size ** k
                suffix, n_left = np.unique(longer, return_counts=True)
                first = keys // self.vocab_size ** (k - 1)
                at = np.searchsorted(suffix, keys).clip(max=len(suffix) - 1)
                found = suffix[at] == keys
                counts = np.where((first != self.bos_id) & found, n_left[at], counts)
            context = keys // self.vocab_size
            ctx_keys, ctx_index = np.unique(context, return_inverse=True)
            self.tables.append(dict(
                keys=keys, counts=counts, ctx_keys=ctx_keys,
                ctx_total=np.bincount(ctx_index, weights=counts),
                ctx_types=np.bincount(ctx_index).astype(np.float64)))
        if valid is not None:
            self.tune(valid)
        return self

    def tune(self, seqs, grid: Sequence[float] = tuple(np.linspace(0.02, 0.98, 49)),
             rounds: int = 2) -> np.ndarray:
        """在 seqs（验证集）上逐阶挑使困惑度最小的折扣，重复 rounds 轮（坐标下降）。"""
        grams = self._windows(seqs)
        looked_up = self._lookup(grams)
        for _ in range(rounds):
            for k in range(self.order):
                scores = []
                for d in grid:
                    self.discounts[k] = d
                    scores.append(-np.log(self._combine(grams[:, -1], looked_up)).sum())
                self.discounts[k] = grid[int(np.argmin(scores))]
        return self.discounts

    # ---- 概率
    def _lookup(self, grams: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """每阶查表一次：(n-gram 次数, 上下文总次数, 上下文后接几种字, 上下文是否见过)。"""
        if not self.tables:
            raise RuntimeError("模型还没有拟合，请先调用 fit (call fit first)")
        safe = np.where(grams < 0, 0, grams)
        out = []
        for k in range(1, self.order + 1):
            t = self.tables[k - 1]
            usable = (grams[:, self.order - k:] >= 0).all(axis=1)
            key = self._keys(safe, k)
            at = np.searchsorted(t["keys"], key).clip(max=len(t["keys"]) - 1)
            count = np.where(t["keys"][at] == key, t["counts"][at], 0.0)
            ctx = key // self.vocab_size
            at = np.searchsorted(t["ctx_keys"], ctx).clip(max=len(t["ctx_keys"]) - 1)
            seen = usable & (t["ctx_keys"][at] == ctx)
            out.append((count, np.where(seen, t["ctx_total"][at], 1.0), t["ctx_types"][at], seen))
        return out

    def _combine(self, target: np.ndarray, looked_up) -> np.ndarray:
        """按插值公式从低阶到高阶算出 P(目标 | 历史)。"""
        p = np.where(self.predictable[target], 1.0 / self.predictable.sum(), 0.0)
        for d, (count, total, types, seen) in zip(self.discounts, looked_up):
            p = np.where(seen, (np.maximum(count - d, 0) + d * types * p) / total, p)
        return p

    def _probs(self, grams: np.ndarray) -> np.ndarray:
        """每行 [历史…, 目标] 的 P(目标 | 历史)。"""
        return self._combine(grams[:, -1], self._lookup(grams))

    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        """给定前文（编号，从 <bos> 起或其最后几个字），返回下一个字在整个词表上的概率。"""
        history = list(context)[-(self.order - 1):] if self.order > 1 else []
        history = [-1] * (self.order - 1 - len(history)) + history
        grams = np.empty((self.vocab_size, self.order), dtype=np.int64)
        grams[:, :-1] = history
        grams[:, -1] = np.arange(self.vocab_size)
        return self._probs(grams)

    def nll(self, seqs: Iterable[Sequence[int]]) -> tuple[float, int]:
        """(负对数似然之和 nats, 计分字数)；字数与 count_tokens 相同。"""
        grams = self._windows(seqs)
        return float(-np.log(self._probs(grams)).sum()), len(grams)

    def perplexity(self, seqs: Iterable[Sequence[int]]) -> float:
        return perplexity(*self.nll(seqs))

    def token_nlls(self, seqs: Iterable[Sequence[int]]) -> list[np.ndarray]:
        """每个序列逐字的负对数似然（nats，<bos> 之后每个字一个数）；与两个框架的 token_nlls 同样的口径。"""
        seqs = list(seqs)
        nll = -np.log(self._probs(self._windows(seqs)))
        return np.split(nll, np.cumsum([len(s) - 1 for s in seqs])[:-1])


# ---------------------------------------------------------------- 体裁

def is_well_formed(content: str, form: str | None = None) -> bool:
    """是整齐的五言/七言绝句或律诗（用 utils.data.poem_form 判断）；给了 form 时还须是该体裁。"""
    found = poem_form(content)
    return found in REGULAR_FORMS and (form is None or found == form)


# ---------------------------------------------------------------- 押韵（十三辙近似）

# pypinyin 的韵母（Style.FINALS，strict 写法：iou/uei/uen，ü 写作 v）-> 韵辙。
# 现代诗歌常用的“十三辙”把介音不同、主要元音和韵尾相同的韵母归为一辙。
_RHYME_GROUPS = {
    "发花": "a ia ua", "梭波": "o e uo", "乜斜": "ie ve", "一七": "i v er",
    "姑苏": "u", "怀来": "ai uai", "灰堆": "ei uei", "遥条": "ao iao", "油求": "ou iou",
    "言前": "an ian uan van", "人辰": "en in uen vn", "江阳": "ang iang uang",
    "中东": "eng ing ong iong ueng",
}
RHYME_OF_FINAL = {final: group for group, finals in _RHYME_GROUPS.items()
                  for final in finals.split()}


def _pinyin(line: str, style) -> list[str]:
    """整句送进 pypinyin（能利用词语判断多音字），每个字一个读音。"""
    from pypinyin import lazy_pinyin

    out = lazy_pinyin(line, style=style, errors=lambda chars: [""] * len(chars))
    return out if len(out) == len(line) else [""] * len(line)


def rhyme_group(line: str) -> str | None:
    """一句最后一个字的韵辙（十三辙）；读不出时 None。"""
    from pypinyin import Style

    if not line:
        return None
    final = _pinyin(line, Style.FINALS)[-1].replace("ü", "v")
    return RHYME_OF_FINAL.get(final)


def rhymes(content: str) -> bool:
    """偶数句（第 2、4、…句）的末字同属一辙，算押韵。至少要有两个偶数句。"""
    even = poem_lines(content)[1::2]
    groups = {rhyme_group(line) for line in even}
    return len(even) >= 2 and None not in groups and len(groups) == 1


# ---------------------------------------------------------------- 平仄

def tones(line: str) -> str:
    """每个字的平仄：'平'（今读第 1、2 声）、'仄'（第 3、4 声）、'?'（轻声或读不出）。"""
    from pypinyin import Style

    marks = []
    for syllable in _pinyin(line, Style.TONE3):
        digit = syllable[-1:] if syllable[-1:].isdigit() else ""
        marks.append("平" if digit in ("1", "2") else "仄" if digit in ("3", "4") else "?")
    return "".join(marks)


_EITHER = ("?", "中")  # 读不出（?）或可平可仄（中）的字，合乎任一边


def _differ(a: str, b: str) -> bool:
    return a in _EITHER or b in _EITHER or a != b


def _same(a: str, b: str) -> bool:
    return a in _EITHER or b in _EITHER or a == b


def tone_checks(content: str) -> dict[str, bool]:
    """近体诗平仄的三条简化规则（只看“节奏点”，即每句第 2、4、6 字）：

    - 二四不同（七言还要二四六分明）：每句第 2、4 字平仄相反，七言第 4、6 字也相反；
    - 对：同一联的出句与对句，第 2 字平仄相反；
    - 粘：下一联出句的第 2 字与上一联对句的第 2 字平仄相同。
    读不出平仄的字（'?'）不算违例。不是整齐的绝句、律诗时三条都算不合。
    """
    if not is_well_formed(content):
        return {"二四不同": False, "对": False, "粘": False}
    marks = [tones(line) for line in poem_lines(content)]
    width = len(marks[0])
    alternate = all(_differ(m[1], m[3]) and (width == 5 or _differ(m[3], m[5])) for m in marks)
    opposed = all(_differ(marks[i][1], marks[i + 1][1]) for i in range(0, len(marks), 2))
    glued = all(_same(marks[i][1], marks[i + 1][1]) for i in range(1, len(marks) - 1, 2))
    return {"二四不同": alternate, "对": opposed, "粘": glued}


def tone_ok(content: str) -> bool:
    """三条平仄规则都满足。"""
    return all(tone_checks(content).values())


# ---------------------------------------------------------------- 古韵与古平仄（平水韵、唐诗的平仄标注）

# 近体诗平仄的基本四条，与另外两条（孤平、三平尾）；classical_tone_checks 的键按这个顺序
TONE_RULES = ("二四六分明", "对", "粘", "句末")
EXTRA_RULES = ("无孤平", "无三平尾")
ALL_TONE_RULES = TONE_RULES + EXTRA_RULES


def classical_tones(line: str, source: str = "counted") -> str:
    """每个字的古平仄：'平'、'仄'、'中'（可平可仄）、'?'（查不到）。

    source="counted" 查统计表（唐诗平仄标注数出来的，data/tones.tsv），"pingshui" 查韵书表（由平水韵推出），
    见 utils.metre。"""
    return "".join(classical_tone(ch, source) for ch in line)


def rhyme_feet(content: str) -> list[str]:
    """韵脚：双数句（第 2、4、…句）的末字。"""
    return [line[-1] for line in poem_lines(content)[1::2]]


def classical_rhymes(content: str) -> bool:
    """平水韵：双数句的末字同属一个平声韵部，而且没有重复的韵脚字。至少要有两个双数句。

    韵脚上的多音字只按它的主要读法算（utils.metre.rhyme_groups：唐人真这样押过的平声韵部，
    如“台”只算上平十灰，不算上平四支）；属于几个韵部的字，只要有一个共同的就算。
    首句入韵与否都可以，但首句的末字也不能与别的韵脚重复。"""
    lines = poem_lines(content)
    feet = rhyme_feet(content)
    if len(feet) < 2 or len(set(feet)) < len(feet) or lines[0][-1] in feet:
        return False
    return bool(frozenset.intersection(*(rhyme_groups(ch) for ch in feet)))


def classical_tone_checks(content: str, source: str = "counted") -> dict[str, bool]:
    """近体诗平仄的六条规则，用古平仄（source 选统计表或韵书表）；“中”和“?”的字合乎任一边：

    - 二四六分明：每句第 2、4 字平仄相反，七言第 4、6 字也相反；
    - 对：同一联里，对句第 2、4（七言还有 6）字与出句相反；
    - 粘：下一联出句的第 2 字与上一联对句的第 2 字相同；
    - 句末：双数句末字是平（韵脚），首句以外的单数句末字是仄；
    - 无孤平：押平声韵的句子（双数句，以及末字是平的首句）里，韵脚以外不止一个平声字，
      或唯一的那个紧挨着韵脚（utils.metre.lone_level）；
    - 无三平尾：没有一句的末三字都是平（utils.metre.level_tail）。
    第 1、3、5 字不论（一三五不论），但孤平、三平尾要看它们。不是整齐的绝句、律诗时六条都算不合。
    """
    if not is_well_formed(content):
        return dict.fromkeys(ALL_TONE_RULES, False)
    marks = [classical_tones(line, source) for line in poem_lines(content)]
    beats = range(1, len(marks[0]) - 1, 2)          # 第 2、4（、6）字的下标
    rhymed = [i % 2 == 1 or (i == 0 and m[-1] == "平") for i, m in enumerate(marks)]
    results = (
        all(_differ(m[i], m[i + 2]) for m in marks for i in beats[:-1]),
        all(_differ(a[i], b[i]) for a, b in zip(marks[::2], marks[1::2]) for i in beats),
        all(_same(marks[i][1], marks[i + 1][1]) for i in range(1, len(marks) - 1, 2)),
        all(_same(m[-1], "平" if i % 2 else "仄") for i, m in enumerate(marks) if i > 0),
        not any(lone_level(m) for m, r in zip(marks, rhymed) if r),
        not any(level_tail(m) for m in marks),
    )
    return dict(zip(ALL_TONE_RULES, results))


def classical_tone_ok(content: str, rules: Sequence[str] = TONE_RULES, source: str = "counted") -> bool:
    """rules 里的古平仄规则都满足；默认是基本的四条（第 8 章的“四条全对”），ALL_TONE_RULES 是六条。"""
    checks = classical_tone_checks(content, source)
    return all(checks[rule] for rule in rules)


def metre_rates(contents: Sequence[str], source: str = "counted") -> dict[str, float]:
    """一组诗通过各项押韵、平仄检查的比例：今读（十三辙、三条规则）与古读（平水韵；平仄四条全对、
    六条全对及每一条，古平仄按 source 查统计表或韵书表）。"""
    checks = {"押韵（十三辙）": rhymes, "押韵（平水韵）": classical_rhymes, "平仄（今读）": tone_ok}
    rates = {name: float(np.mean([check(t) for t in contents])) for name, check in checks.items()}
    classical = [classical_tone_checks(t, source) for t in contents]
    rates["平仄（古读）"] = float(np.mean([all(c[r] for r in TONE_RULES) for c in classical]))
    rates["平仄（古读·六条）"] = float(np.mean([all(c.values()) for c in classical]))
    for rule in ALL_TONE_RULES:
        rates[f"古读·{rule}"] = float(np.mean([c[rule] for c in classical]))
    return rates


def shuffled_lines(contents: Sequence[str], rng: np.random.Generator) -> list[str]:
    """打乱基线：每首诗的第 i 句换成同体裁另一首（随机抽）的第 i 句，标点照旧。"""
    lines = [poem_lines(content) for content in contents]
    by_form = defaultdict(list)
    for index, content in enumerate(contents):
        by_form[poem_form(content)].append(index)
    out = [""] * len(contents)
    for form, members in by_form.items():
        if len(members) < 2:
            raise ValueError(f"{form} 只有一首诗，抽不出别的诗 (need at least two poems per form)")
        for me, index in enumerate(members):
            picks = rng.integers(len(members) - 1, size=len(lines[index]))
            picks += picks >= me                  # 跳过自己
            out[index] = "".join(lines[members[k]][i] + "，。"[i % 2] for i, k in enumerate(picks))
    return out


# ---------------------------------------------------------------- 多样性与照抄

def distinct_n(texts: Iterable[str], n: int) -> float:
    """distinct-n：不同的 n 字组个数 / n 字组总数。n 字组只在一句之内取（不跨标点）。"""
    grams = Counter(line[i:i + n] for text in texts for line in poem_lines(text)
                    for i in range(len(line) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def line_set(contents: Iterable[str]) -> set[str]:
    """训练集所有诗句的集合（用来查生成的句子是不是原样抄来的）。"""
    return {line for content in contents for line in poem_lines(content)}


def copied_share(texts: Iterable[str], known_lines: set[str]) -> float:
    """生成的句子里，原样出现在 known_lines（训练集诗句）中的比例。"""
    lines = [line for text in texts for line in poem_lines(text)]
    return sum(line in known_lines for line in lines) / len(lines) if lines else 0.0


def poem_report(texts: Sequence[str], known_lines: set[str] | None = None) -> dict[str, float]:
    """一组诗的各项比例：合体裁、押韵（平水韵）、平仄（古平仄四条，只看合体裁的诗）、distinct-1/2、照抄率。"""
    texts = list(texts)
    if not texts:
        raise ValueError("没有诗可以评价 (no poems to evaluate)")
    formed = [t for t in texts if is_well_formed(t)]
    report = {
        "合体裁": len(formed) / len(texts),
        "押韵": float(np.mean([classical_rhymes(t) for t in texts])),
        "平仄（合体裁者）": float(np.mean([classical_tone_ok(t) for t in formed])) if formed else 0.0,
        "distinct-1": distinct_n(texts, 1),
        "distinct-2": distinct_n(texts, 2),
    }
    if known_lines is not None:
        report["照抄率"] = copied_share(texts, known_lines)
    return report


# ---------------------------------------------------------------- 计算量

GATES = {"simple": 1, "lstm": 4, "gru": 3}


def cluster_shares(seqs, cutoffs, vocab_size: int) -> list[float]:
    """要预测的字（每首诗 <bos> 之后的编号）落在自适应 softmax 各尾簇里的比例。

    词表按字频排序，编号 < cutoffs[0] 的在头部；第 i 簇是 [cutoffs[i], cutoffs[i+1])，最后一簇到 vocab_size。
    """
    targets = np.concatenate([np.asarray(s[1:]) for s in seqs])
    bounds = [*cutoffs, vocab_size]
    return [float(np.mean((targets >= lo) & (targets < hi))) for lo, hi in zip(bounds, bounds[1:])]


def forward_flops(vocab_size: int, cell: str, embed_dim: int, hidden_dim: int, num_layers: int,
                  tie_embeddings: bool = False, adaptive_cutoffs=None, cluster_shares=None, **_) -> float:
    """写诗模型每个位置前向的矩阵乘 FLOPs（乘加各算一次；嵌入查表不计）：

    循环层 Σ_层 2·门数·(输入维 + H)·H（门数：SimpleRNN 1、GRU 3、LSTM 4），加输出层：
    不共享嵌入时 2·H·V；共享时 2·H·E（投影）+ 2·E·V；
    自适应 softmax（cutoffs c_0 < c_1 < …，共 k 簇）：2·H·E（投影）+ 2·E·(c_0 + k)（头部）
    + Σ_i s_i·(2·E·d_i + 2·d_i·n_i)，d_i = E // 4^(i+1) 是第 i 簇的维度，n_i 是簇里的字数，
    s_i 是目标落在这簇的比例（cluster_shares；不给时按 1 算，即算出整个词表的概率，生成时就是这样）。
    训练一步约为前向的 3 倍（反向约 2 倍）。
    """
    flops = 0.0
    for layer in range(num_layers):
        inputs = embed_dim if layer == 0 else hidden_dim
        flops += 2 * GATES[cell] * (inputs + hidden_dim) * hidden_dim
    if adaptive_cutoffs:
        bounds = [*adaptive_cutoffs, vocab_size]
        shares = cluster_shares or [1.0] * len(adaptive_cutoffs)
        flops += 2 * hidden_dim * embed_dim + 2 * embed_dim * (adaptive_cutoffs[0] + len(adaptive_cutoffs))
        for i, share in enumerate(shares):
            dim = embed_dim // 4 ** (i + 1)
            flops += share * (2 * embed_dim * dim + 2 * dim * (bounds[i + 1] - bounds[i]))
        return flops
    if tie_embeddings:
        return flops + 2 * hidden_dim * embed_dim + 2 * embed_dim * vocab_size
    return flops + 2 * hidden_dim * vocab_size


def matmul_gflops(matmul: Callable, a, b, repeats: int = 5) -> float:
    """实测矩阵乘 a @ b（方阵，n×n）的速度 GFLOP/s：先热身一次，再取 repeats 次里最快的。"""
    n = a.shape[0]
    matmul(a, b)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9
