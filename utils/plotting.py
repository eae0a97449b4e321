"""绘图辅助：中文字体，以及各章共用的图。"""
from __future__ import annotations

import warnings

import matplotlib
from matplotlib import font_manager

# 按优先顺序：Linux（Noto / 思源 / 文泉驿）、Windows（微软雅黑 / 黑体）、macOS（苹方 / 黑体-简）
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei",
    "SimHei", "PingFang SC", "Heiti SC", "Hiragino Sans GB", "Arial Unicode MS",
)

INSTALL_HINT = """没有找到中文字体，图中的汉字会显示成方框。安装一个再重新运行本单元：
  Debian/Ubuntu:  sudo apt-get install -y fonts-noto-cjk
  Colab:          !apt-get -qq install -y fonts-noto-cjk
  macOS:          系统自带苹方（PingFang SC）；或 brew install --cask font-noto-sans-cjk-sc
  Windows:        系统自带微软雅黑（Microsoft YaHei）；或从 https://github.com/notofonts/noto-cjk 安装
(No CJK font found; install one as above.)"""


def _installed(names) -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in names if n in available), None)


def use_chinese_font() -> str | None:
    """选一个已安装的中文字体并设为 matplotlib 默认字体，返回其名字；找不到时警告并返回 None。

    matplotlib 的字体列表有缓存：缓存建立之后才安装的字体要重新扫描系统字体目录才能找到。
    """
    font = _installed(CJK_FONTS)
    if font is None:
        known = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass  # 个别损坏或不支持的字体文件跳过
        font = _installed(CJK_FONTS)
    if font is None:
        warnings.warn(INSTALL_HINT, stacklevel=2)
        return None
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["axes.unicode_minus"] = False  # 负号用 ASCII “-”，中文字体里常缺 “−”
    return font
