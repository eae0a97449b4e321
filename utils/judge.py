"""评判：生成的诗能不能与唐诗分开（第 12 章）。不依赖框架：给诗打分的语言模型由调用者传入。

评判只用来量，从不参与生成或重排（拿考官来挑答案，考官的分数就不再说明什么）。它给出三类数字，
每一项都与同样多首、同体裁的留出真诗并排：

1. 两个每次现场训练的分类器（生成的诗 vs 真诗），重复分层 5 折的留出准确率，50 % 就是分不出：
   - 字 1–2-gram 的逻辑回归：看用字；
   - 看连贯的神经网络（多层感知机）：特征来自一个打分的语言模型——每句接在前文之后有多难猜、
     单独一句有多难猜，两者之差就是前文帮了多少忙。
   每次都附两项对照：真诗 vs 真诗（留出的真诗随机分两半，应约 50 %：分类器本身没有偏向）；
   真诗 vs 句子在诗之间打乱的真诗（神经网络至少要 75 %，否则它看不见连贯，它的数不算）。
2. 流畅度：两个不同类的打分模型（Kneser-Ney 4-gram 与另外训练的循环网络，生成诗的模型都没用过它们）下，
   生成的诗的每字困惑度 / 真诗的。1.0 最好；小于 1 是比真诗平淡（太好猜），大于 1 是比真诗怪。
3. 用字：distinct-1/2、最常见的 20 个二字组占全部二字组的比例、诗内有重复二字组的诗的比例、
   有叠字（如“萧萧”）的诗的比例、与训练集某句一字不差的句子的比例。
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np

from utils.data import REGULAR_FORMS, Vocab, load_poems, poem_form, poem_lines, split_poems
from utils.metrics import copied_share, distinct_n, line_set

# 打分模型：一组文字 -> 每段逐字的负对数似然（nats），每个字一个数，最后一个是 <eos>
Scorer = Callable[[Sequence[str]], list[np.ndarray]]
SEEDS = (0, 1, 2)          # 分类器重复几次（每次一种 5 折划分，神经网络的初始化也随之变）
FOLDS = 5
MUST_SEE_SHUFFLING = 0.75  # 神经网络在“打乱句子”对照上至少要这么准，它的数才算
TOP_BIGRAMS = 20


def scorer(token_nlls, vocab: Vocab) -> Scorer:
    """把“编号序列 -> 逐字负对数似然”（两个框架的 token_nlls，或 NGramModel.token_nlls）变成给文字打分。"""
    return lambda texts: token_nlls([vocab.encode(t) for t in texts])


def held_out_real(vocab: Vocab, forms: Sequence[str] = REGULAR_FORMS, poems=None) -> tuple[list[str], float]:
    """验证集与测试集里这几种体裁的真诗（模型没训练过它们），只取
    - 每个字都在词表里的：生成的诗也只能用词表里的字；
    - 没有一句在训练集里出现过的：《全唐诗》里同一首诗常有几个字不同的异文，按内容划分时会分到训练集和测试集两边，
      打分模型见过训练集里的那一首，给它的异文的困惑度就偏低，生成的诗与之相比就吃亏。
    返回 (这些诗, 全部留出的这几种体裁的诗里与训练集某句相同的句子的比例)——后者是“照抄率”该比的真诗的数。"""
    train, valid, test = split_poems(load_poems() if poems is None else poems)
    known = line_set(p.content for p in train)
    held = [p.content for p in valid + test if poem_form(p.content) in forms]
    fresh = [c for c in held if not vocab.missing(c) and not any(line in known for line in poem_lines(c))]
    return fresh, copied_share(held, known)


def matched(write: Callable[[str, int], str], real: Sequence[str]) -> list[str]:
    """每首真诗配一首同体裁的生成诗：write(体裁, i) -> 诗，i 是真诗的序号（scripts.judge_poems 用它定种子）。"""
    return [write(poem_form(content), i) for i, content in enumerate(real)]


# ---------------------------------------------------------------- 连贯：每句有多难猜

def line_spans(content: str) -> list[tuple[int, int]]:
    """每句在诗里的起止位置（不含标点）。"""
    spans, start = [], 0
    for line in poem_lines(content):
        start = content.index(line, start)
        spans.append((start, start + len(line)))
        start += len(line)
    return spans


FEATURES = ("各句在前文之后", "各句单独", "前文帮忙（均值）", "前文帮忙（最少的一句）", "前文帮忙（最多的一句）",
            "前文帮忙（每联第二句）", "前文帮忙（下一联第一句）", "各句在前文之后（标准差）",
            "最难猜的一句", "最好猜的一句", "逐字（标准差）", "最难猜的三个字", "<eos>", "句数")


def coherence_features(texts: Sequence[str], score: Scorer) -> np.ndarray:
    """每首诗一行特征（列名见 FEATURES），都是打分模型下平均每字的负对数似然：每句接在前文之后（ctx）、
    单独作为一首诗的开头（alone），以及前文帮的忙 gain = alone - ctx（第 2 句起）。"""
    spans = [line_spans(t) for t in texts]
    in_context = score(texts)
    alone = iter(score([t[a:b] for t, sp in zip(texts, spans) for a, b in sp]))
    rows = []
    for sp, nll in zip(spans, in_context):
        ctx = np.array([nll[a:b].mean() for a, b in sp])
        own = np.array([next(alone)[:-1].mean() for _ in sp])  # 去掉单独一句后面的 <eos>
        gain = (own - ctx)[1:]
        chars = np.concatenate([nll[a:b] for a, b in sp])
        rows.append([ctx.mean(), own.mean(), gain.mean(), gain.min(), gain.max(), gain[0::2].mean(),
                     gain[1::2].mean(), ctx.std(), ctx.max(), ctx.min(), chars.std(), np.sort(chars)[-3:].mean(),
                     nll[-1], len(sp)])
    return np.array(rows)


def permuted_lines(contents: Sequence[str], rng: np.random.Generator) -> list[str]:
    """“句子打乱”的对照：同体裁的诗之间，每个位置上的句子随机换个主人（每首诗的第 i 句来自另一首诗的第 i 句），
    每一句正好用一次。不能像 utils.metrics.shuffled_lines 那样有放回地抽：同一句会出现在几首打乱的诗里，
    交叉验证的分类器在训练折里背下这些句子，就凭“见过这句”认出测试折里打乱的诗，而不是凭连贯。"""
    lines = [poem_lines(c) for c in contents]
    out = [""] * len(contents)
    forms = np.array([poem_form(c) for c in contents])
    for form in dict.fromkeys(forms):
        members = np.flatnonzero(forms == form)
        if len(members) < 2:
            raise ValueError(f"{form} 只有一首诗，没法打乱 (need at least two poems per form)")
        new = {m: [] for m in members}
        for i in range(len(lines[members[0]])):
            order = rng.permutation(members)  # 排成一圈，每首拿下一首的第 i 句：没有一首拿到自己的
            for me, donor in zip(order, np.roll(order, -1)):
                new[me].append(lines[donor][i])
        for m in members:
            out[m] = "".join(line + "，。"[i % 2] for i, line in enumerate(new[m]))
    return out


# ---------------------------------------------------------------- 分类器

def ngram_classifier(seed: int):
    """字 1–2-gram（出现与否）上的逻辑回归。"""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(CountVectorizer(analyzer="char", ngram_range=(1, 2), binary=True),
                         LogisticRegression(max_iter=2000, random_state=seed))


def neural_classifier(seed: int):
    """连贯特征（标准化后）上的两层感知机（留出训练折的 1/10 判断何时停止训练）。"""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), MLPClassifier((32, 16), alpha=1e-3, max_iter=500, early_stopping=True,
                                                         random_state=seed))


def accuracy(make, x, y, seeds: Sequence[int] = SEEDS) -> dict:
    """重复分层 5 折的留出准确率：每个种子一种划分，每折在 4/5 上训练、在留出的 1/5 上测。
    返回各种子的平均（mean）、最低与最高（low、high）。"""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    per_seed = [float(cross_val_score(make(seed), x, y, cv=StratifiedKFold(FOLDS, shuffle=True, random_state=seed))
                      .mean()) for seed in seeds]
    return dict(mean=float(np.mean(per_seed)), low=min(per_seed), high=max(per_seed), per_seed=per_seed)


def two_judges(a: Sequence[str], b: Sequence[str], feats_a: np.ndarray, feats_b: np.ndarray,
               seeds: Sequence[int] = SEEDS) -> dict:
    """两个分类器分 a 与 b 的留出准确率。"""
    y = np.r_[np.ones(len(a)), np.zeros(len(b))]
    texts = np.array(list(a) + list(b), dtype=object)
    return dict(ngram=accuracy(ngram_classifier, texts, y, seeds),
                neural=accuracy(neural_classifier, np.vstack([feats_a, feats_b]), y, seeds))


def halves(texts: Sequence[str], rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """按体裁各自随机分成两半（下标）。"""
    first, second = [], []
    forms = np.array([poem_form(t) for t in texts])
    for form in dict.fromkeys(forms):
        members = rng.permutation(np.flatnonzero(forms == form))
        first += members[:len(members) // 2].tolist()
        second += members[len(members) // 2:].tolist()
    return first, second


# ---------------------------------------------------------------- 用字

def bigrams(content: str) -> list[str]:
    """一首诗句内的二字组（不跨标点）。"""
    return [line[i:i + 2] for line in poem_lines(content) for i in range(len(line) - 1)]


def top_bigram_share(texts: Sequence[str], k: int = TOP_BIGRAMS) -> float:
    """最常见的 k 个二字组占全部二字组的比例。"""
    counts = Counter(g for t in texts for g in bigrams(t))
    return sum(n for _, n in counts.most_common(k)) / sum(counts.values())


def repeats_a_bigram(content: str) -> bool:
    """诗里有没有哪个二字组出现两次以上。"""
    return max(Counter(bigrams(content)).values(), default=0) > 1


def has_reduplication(content: str) -> bool:
    """有没有叠字（句内相邻两字相同，如“萧萧”）。"""
    return any(a == b for line in poem_lines(content) for a, b in zip(line, line[1:]))


def word_use(texts: Sequence[str], known_lines: set[str]) -> dict[str, float]:
    return {"distinct-1": distinct_n(texts, 1), "distinct-2": distinct_n(texts, 2),
            f"前 {TOP_BIGRAMS} 个二字组的占比": top_bigram_share(texts),
            "诗内重复二字组的诗": float(np.mean([repeats_a_bigram(t) for t in texts])),
            "有叠字的诗": float(np.mean([has_reduplication(t) for t in texts])),
            "照抄训练集的句子": copied_share(texts, known_lines)}


def perplexity_of(texts: Sequence[str], score: Scorer) -> float:
    return float(np.exp(np.concatenate(score(texts)).mean()))


# ---------------------------------------------------------------- 评判

def judge(generated: Sequence[str], real: Sequence[str], scorers: dict[str, Scorer], coherence_scorer: str,
          known_lines: set[str], copy_reference: float | None = None, seeds: Sequence[int] = SEEDS,
          seed: int = 0) -> dict:
    """生成的诗（与 real 同样多首、每种体裁一样多）对留出的真诗：两个分类器及其对照、两个打分模型下的
    困惑度之比、用字。coherence_scorer 是 scorers 里给神经网络提供特征的那个；known_lines 是训练集的诗句；
    copy_reference 是全部留出的真诗的照抄率（held_out_real 的第二个返回值：real 本身按构造不含训练集的句子）。"""
    if sorted(map(poem_form, generated)) != sorted(map(poem_form, real)):
        raise ValueError("生成的诗与真诗的体裁、首数须一一对应（用 matched 生成）"
                         " (generated and real poems must match form by form)")
    rng = np.random.default_rng(seed)
    first, second = halves(real, rng)
    shuffled = permuted_lines([real[i] for i in second], rng)
    score = scorers[coherence_scorer]
    feats_gen, feats_real, feats_shuffled = (coherence_features(t, score) for t in (generated, real, shuffled))
    result = dict(count=len(real), forms=dict(Counter(map(poem_form, real))), coherence_scorer=coherence_scorer,
                  generated_vs_real=two_judges(generated, real, feats_gen, feats_real, seeds),
                  real_vs_real=two_judges([real[i] for i in first], [real[i] for i in second],
                                          feats_real[first], feats_real[second], seeds),
                  real_vs_shuffled=two_judges([real[i] for i in first], shuffled,
                                              feats_real[first], feats_shuffled, seeds),
                  fluency={}, word_use=dict(generated=word_use(generated, known_lines),
                                            real=word_use(real, known_lines)), copy_reference=copy_reference)
    result["neural_counts"] = result["real_vs_shuffled"]["neural"]["mean"] >= MUST_SEE_SHUFFLING
    for name, score in scorers.items():
        gen_ppl, real_ppl = perplexity_of(generated, score), perplexity_of(real, score)
        result["fluency"][name] = dict(generated=gen_ppl, real=real_ppl, ratio=gen_ppl / real_ppl)
    return result


def telltales(generated: Sequence[str], real: Sequence[str], k: int = 10) -> dict[str, list[tuple[str, float]]]:
    """在全部诗上训练 n-gram 分类器，权重最偏向生成的诗与最偏向真诗的各 k 个字或二字组（及其权重）。"""
    model = ngram_classifier(0).fit(np.array(list(generated) + list(real), dtype=object),
                                    np.r_[np.ones(len(generated)), np.zeros(len(real))])
    vectorizer, regression = model[0], model[-1]
    names, weights = vectorizer.get_feature_names_out(), regression.coef_[0]
    order = np.argsort(weights)
    return dict(generated=[(names[i], float(weights[i])) for i in order[::-1][:k]],
                real=[(names[i], float(weights[i])) for i in order[:k]])


def judge_markdown(result: dict) -> str:
    """评判结果的 Markdown 表格。"""
    def acc(a):
        return f"{a['mean']:.0%}（{a['low']:.0%}–{a['high']:.0%}）"

    rows = [f"生成的诗与留出的真诗各 {result['count']} 首（每种体裁一样多）；准确率是重复分层 {FOLDS} 折的留出准确率，"
            f"括号里是 {len(result['generated_vs_real']['ngram']['per_seed'])} 种划分中最低与最高的；50 % 即分不出。", "",
            "| 分类器 | 生成 vs 真诗 | 对照：真诗 vs 真诗 | 对照：真诗 vs 句子打乱的真诗 |", "|---|---:|---:|---:|"]
    neural = f"看连贯的神经网络（{result['coherence_scorer']}的特征）"
    for key, name in (("ngram", "字 1–2-gram 逻辑回归"), ("neural", neural)):
        rows.append(f"| {name} | {acc(result['generated_vs_real'][key])} | {acc(result['real_vs_real'][key])} | "
                    f"{acc(result['real_vs_shuffled'][key])} |")
    verdict = "看得见连贯，它的数算数" if result["neural_counts"] else "看不见连贯，它的数不算"
    rows += ["", f"神经网络在“打乱句子”的对照上 {result['real_vs_shuffled']['neural']['mean']:.0%}"
             f"（须 ≥ {MUST_SEE_SHUFFLING:.0%}）：{verdict}。", "",
             "| 打分模型 | 生成的诗的困惑度 | 真诗的 | 之比（1.0 最好） |", "|---|---:|---:|---:|"]
    for name, f in result["fluency"].items():
        rows.append(f"| {name} | {f['generated']:.1f} | {f['real']:.1f} | {f['ratio']:.2f} |")
    rows += ["", "| 用字 | 生成的诗 | 真诗 |", "|---|---:|---:|"]
    for name, value in result["word_use"]["generated"].items():
        real = result["word_use"]["real"][name]
        style = "{:.3f}" if name.startswith("distinct") else "{:.1%}"
        rows.append(f"| {name} | {style.format(value)} | {style.format(real)} |")
    if result.get("copy_reference") is not None:
        rows.append(f"| 照抄训练集的句子（全部留出的真诗，含训练集里某首诗的异文） | | {result['copy_reference']:.1%} |")
    return "\n".join(rows)


def decoding_markdown(results: dict[str, dict]) -> str:
    """几种解码设置（名字 -> 评判结果，同一批真诗）的一张表：两个分类器的准确率、两个打分模型的困惑度之比、用字。
    最后一行是真诗自己的用字，好与每种设置比。"""
    first = next(iter(results.values()))
    scorers = list(first["fluency"])
    uses = ["distinct-1", "distinct-2", "诗内重复二字组的诗", "有叠字的诗"]
    rows = [f"每种设置都与同样的 {first['count']} 首留出的真诗比；准确率是 {FOLDS} 折 × "
            f"{len(first['generated_vs_real']['ngram']['per_seed'])} 种划分的平均，50 % 即分不出；困惑度之比 1.0 最好。", "",
            "| 解码设置 | 字 n-gram 分类器 | 看连贯的分类器 | " + " | ".join(f"困惑度之比：{s}" for s in scorers) + " | "
            + " | ".join(uses) + " |", "|---" + "|---:" * (2 + len(scorers) + len(uses)) + "|"]
    for name, r in results.items():
        if r["count"] != first["count"]:
            raise ValueError(f"{name} 评判的真诗首数不同，不能放在一张表里 (different real poems)")
        accuracy = r["generated_vs_real"]
        rows.append(f"| {name} | {accuracy['ngram']['mean']:.0%} | {accuracy['neural']['mean']:.0%} | "
                    + " | ".join(f"{r['fluency'][s]['ratio']:.2f}" for s in scorers) + " | "
                    + " | ".join(_use(u, r["word_use"]["generated"][u]) for u in uses) + " |")
    real, control = first["word_use"]["real"], first["real_vs_real"]
    rows.append(f"| 真诗（分类器一栏是对照：真诗 vs 真诗） | {control['ngram']['mean']:.0%} | {control['neural']['mean']:.0%} | "
                + " | ".join("—" for _ in scorers) + " | " + " | ".join(_use(u, real[u]) for u in uses) + " |")
    return "\n".join(rows)


def _use(name: str, value: float) -> str:
    return f"{value:.3f}" if name.startswith("distinct") else f"{value:.1%}"
