"""诗写的是不是要的题材：按题作诗的第二项测量（第 13 章）。

题材从标题里的字词来（THEMES：标题含“送”“别”的是送别诗……），一首诗可以同时属于几种。
ThemeClassifier 只在训练集的真诗上训练：每种题材一个看正文的二分类器（字 1–2-gram 的逻辑回归，两类按样本数加权），
然后问它：这首诗（只看正文）是不是这个题材？在留出的真诗里，标题属于某题材的诗被认出来的比例是真诗的“命中率”；
按这个题材的标题生成的诗被认出来的比例是生成诗的命中率。生成诗的命中率至少是真诗的 80 %，才说模型听懂了题目。
正则化的强度 C 由 scripts.tune_theme_classifier 在训练集上五折交叉验证选出（不看任何生成的诗）。
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

# 题材 -> 标题里出现哪些字词就算
THEMES = {
    "送别": ("送", "别", "饯"),
    "边塞": ("塞", "边", "从军", "出征", "征人", "关山"),
    "山水": ("山", "水", "溪", "泉", "峡", "江行"),
    "月": ("月",),
    "秋": ("秋",),
    "春": ("春",),
    "怀古": ("怀古", "览古", "咏史", "吊古"),
    "闺怨": ("闺", "怨", "宫词", "宫怨"),
}
C_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
# 八种题材五折交叉验证的平衡准确率平均最高的 C（results/conditions/theme_classifier.json；sklearn 的默认 1.0 过拟合：
# 测试集里的月夜诗只认得出 28 %）
C = 1e-3


def themes_of(title: str) -> set[str]:
    """标题属于哪些题材（可能一种也没有）。"""
    return {theme for theme, marks in THEMES.items() if any(mark in title for mark in marks)}


def _vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2, binary=True)


def _model(c: float, seed: int = 0):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)


def _labels(titles: Sequence[str], theme: str) -> np.ndarray:
    return np.array([theme in themes_of(t) for t in titles])


class ThemeClassifier:
    """每种题材一个看正文的二分类器，只用训练集的真诗（正文与标题）训练。"""

    def __init__(self, contents: Sequence[str], titles: Sequence[str], seed: int = 0, c: float = C):
        self.c, self.vectorizer = c, _vectorizer()
        x = self.vectorizer.fit_transform(contents)
        self.models = {}
        for theme in THEMES:
            y = _labels(titles, theme)
            if 0 < y.sum() < len(y):  # 训练集里这种题材有诗、也有别的诗，才训练得出来
                self.models[theme] = _model(c, seed).fit(x, y)

    def recognises(self, contents: Iterable[str], theme: str) -> np.ndarray:
        """每首诗（只看正文）是不是被认作这个题材。"""
        if theme not in self.models:
            raise ValueError(f"训练集里没有（或全是）{theme}诗，认不了这个题材 (no training poems for {theme})")
        return self.models[theme].predict(self.vectorizer.transform(list(contents))).astype(bool)

    def hit_rate(self, contents: Sequence[str], theme: str) -> float:
        return float(self.recognises(contents, theme).mean())


def ratio_interval(generated: np.ndarray, real: np.ndarray, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """生成诗命中率 ÷ 真诗命中率的 95 % 自助法区间：两边的诗各自有放回地重抽 draws 次（真诗少的题材，区间就宽）。"""
    rng = np.random.default_rng(seed)
    generated, real = np.asarray(generated, dtype=float), np.asarray(real, dtype=float)
    gen_rates = rng.choice(generated, (draws, len(generated))).mean(axis=1)
    real_rates = rng.choice(real, (draws, len(real))).mean(axis=1)
    ratios = gen_rates / np.maximum(real_rates, 1e-9)
    return float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))


def cross_validate(contents: Sequence[str], titles: Sequence[str], grid: Sequence[float] = C_GRID,
                   folds: int = 5, seed: int = 0) -> dict[str, dict[float, float]]:
    """每种题材、每个 C 的 folds 折交叉验证平衡准确率（每折只用其余几折的诗建字表、训练）。"""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import KFold

    contents, titles = np.asarray(contents, dtype=object), list(titles)
    scores = {theme: {c: [] for c in grid} for theme in THEMES}
    for fit, held in KFold(folds, shuffle=True, random_state=seed).split(contents):
        vectorizer = _vectorizer()
        x_fit, x_held = vectorizer.fit_transform(contents[fit]), vectorizer.transform(contents[held])
        for theme in THEMES:
            y = _labels(titles, theme)
            if not 0 < y[fit].sum() < len(fit):
                continue
            for c in grid:
                predicted = _model(c, seed).fit(x_fit, y[fit]).predict(x_held)
                scores[theme][c].append(balanced_accuracy_score(y[held], predicted))
    return {theme: {c: float(np.mean(s)) for c, s in by_c.items() if s} for theme, by_c in scores.items() if any(by_c.values())}


def best_c(scores: dict[str, dict[float, float]]) -> float:
    """各题材交叉验证平衡准确率的平均最高的 C。"""
    grid = next(iter(scores.values()))
    return max(grid, key=lambda c: np.mean([by_c[c] for by_c in scores.values()]))
