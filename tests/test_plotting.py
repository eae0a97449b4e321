"""中文字体：选中的字体能画出中文，matplotlib 不报缺字。"""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils.plotting import CJK_FONTS, use_chinese_font  # noqa: E402


def test_chinese_title_renders_without_missing_glyphs(tmp_path):
    font = use_chinese_font()
    assert font in CJK_FONTS, "没有找到中文字体：运行 .ci/run 或 apt-get install fonts-noto-cjk"
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("床前明月光，疑是地上霜 −1")
        ax.plot([-1, 1], [-1, 1])
        fig.savefig(tmp_path / "title.png")
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing


def test_missing_glyph_would_be_reported(tmp_path):
    """对照：用不含汉字的字体画中文，matplotlib 确实会报缺字——上面的检查是能失败的。"""
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(
            {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("床前明月光")
        fig.savefig(tmp_path / "boxes.png")
        plt.close(fig)
    assert any("missing from font" in str(w.message) for w in caught)
