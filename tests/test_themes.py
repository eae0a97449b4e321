"""utils/themes.py：题材从标题来；只看正文的分类器认得出正文里写着题材的诗，认不出没写的。"""
import numpy as np

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
