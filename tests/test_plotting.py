"""中文字体：选中的字体能画出中文，matplotlib 不报缺字；没有系统字体时用 pip 装的 Noto Sans CJK SC。"""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from utils.plotting import CJK_FONTS, BUNDLED_FONT_FILE, bundled_font_path, use_chinese_font  # noqa: E402


def missing_glyph_warnings(tmp_path, **rc):
    """用给定的 rcParams 画一张带中文标题的图，返回 matplotlib 的缺字警告。"""
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context(rc):
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("床前明月光，疑是地上霜 −1")
        ax.plot([-1, 1], [-1, 1])
        fig.savefig(tmp_path / "title.png")
        plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_chinese_title_renders_without_missing_glyphs(tmp_path):
    font = use_chinese_font()
    assert font in CJK_FONTS, "没有找到中文字体：pip install -r requirements.txt（其中的 mplfonts 带字体）"
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert not missing_glyph_warnings(tmp_path)


def test_the_pip_font_alone_draws_chinese(tmp_path):
    """不靠系统字体：requirements.txt 里的 mplfonts 带的 Noto Sans CJK SC 自己就能画出中文。"""
    path = bundled_font_path()
    assert path is not None and path.name == BUNDLED_FONT_FILE
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    assert name == "Noto Sans CJK SC"
    assert not missing_glyph_warnings(tmp_path, **{"font.family": "sans-serif", "font.sans-serif": [name],
                                                   "axes.unicode_minus": False})


def test_only_the_ofl_font_of_the_package_is_registered():
    """mplfonts 也带 SimHei（许可不明）等字体：课程只注册 OFL 许可的那一个。"""
    use_chinese_font()
    path = bundled_font_path()
    registered = {e.fname for e in font_manager.fontManager.ttflist if str(path.parent) in e.fname}
    assert registered <= {str(path)}


def test_missing_glyph_would_be_reported(tmp_path):
    """对照：用不含汉字的字体画中文，matplotlib 确实会报缺字——上面的检查是能失败的。"""
    assert missing_glyph_warnings(tmp_path, **{"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]})
