"""utils/themes.py：题材从标题来；只看正文的分类器认得出正文里写着题材的诗，认不出没写的。"""
import numpy as np
import pytest

from utils.themes import ThemeClassifier, themes_of

CHARS = list("春风花夜山水云江天白日霜雪雁鸿烟雨楼")


def poems(n, seed, moon):
    """五言绝句；moon=True 的诗每句都写到“月”。"""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lines = ["".join(rng.choice(CHARS, 4)) + ("月" if moon else rng.choice(CHARS)) for _ in range(4)]
        out.append(f"{lines[0]}，{lines[1]}。{lines[2]}，{lines[3]}。")
    return out


def test_themes_come_from_the_title():
    assert themes_of("送杜少府之任蜀州") == {"送别"}
    assert themes_of("秋夜寄邱员外") == {"秋"}
    assert themes_of("月下独酌") == {"月"} and themes_of("静夜思") == set()
    assert themes_of("春江花月夜") == {"春", "月"}                 # 一首诗可以属于几种题材


def test_the_classifier_recognises_the_theme_from_the_content_alone():
    contents = poems(150, 0, moon=True) + poems(150, 1, moon=False)
    titles = ["月夜"] * 150 + ["无题"] * 150
    classifier = ThemeClassifier(contents, titles)
    assert classifier.hit_rate(poems(50, 2, moon=True), "月") > 0.9
    assert classifier.hit_rate(poems(50, 3, moon=False), "月") < 0.1
    with np.testing.assert_raises_regex(ValueError, "没有（或全是）送别诗"):
        classifier.hit_rate(poems(5, 4, moon=True), "送别")


def test_the_ratio_interval_is_wide_when_few_real_poems_and_contains_the_ratio():
    from utils.themes import ratio_interval

    generated = np.r_[np.ones(40), np.zeros(60)]                # 命中率 0.4
    few, many = np.r_[np.ones(2), np.zeros(2)], np.r_[np.ones(200), np.zeros(200)]   # 都是 0.5
    low_few, high_few = ratio_interval(generated, few)
    low_many, high_many = ratio_interval(generated, many)
    assert low_many < 0.8 < high_many and low_few < 0.8 < high_few
    assert high_few - low_few > 2 * (high_many - low_many)


def test_cross_validation_scores_held_out_folds_and_the_committed_c_is_its_choice():
    """合成的诗：写到“月”的是月夜诗，分得开；标题与正文无关时，训练集上能背下来，交叉验证却只有 0.5 上下
    （分数来自没参加训练的那一折）。仓库里的 utils.themes.C 就是 scripts.tune_theme_classifier 提交的结果里
    八种题材平均最好的那个。"""
    import json

    from utils.settings import REPO_ROOT
    from utils.themes import C, best_c, cross_validate

    contents = poems(60, 0, moon=True) + poems(60, 1, moon=False)
    scores = cross_validate(contents, ["月夜"] * 60 + ["无题"] * 60, grid=(0.01, 1.0), folds=3)
    assert set(scores) == {"月"}                                # 别的题材训练集里没有，不算
    assert scores["月"][1.0] > 0.9
    random_titles = np.random.default_rng(5).choice(["月夜", "无题"], len(contents))
    noise = cross_validate(contents, random_titles, grid=(0.01, 1.0), folds=3)["月"]
    assert all(abs(s - 0.5) < 0.15 for s in noise.values())
    committed = json.loads((REPO_ROOT / "results" / "conditions" / "theme_classifier.json").read_text(encoding="utf-8"))
    assert C == committed["best_c"] == best_c({t: {float(c): s for c, s in by_c.items()}
                                                for t, by_c in committed["scores"].items()})
