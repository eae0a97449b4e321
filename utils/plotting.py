"""绘图辅助：让 matplotlib 画得出中文。

找字体的顺序：系统里装好的中文字体（Windows 的微软雅黑、macOS 的苹方、Linux 的 Noto CJK 等）；
没有时用 pip 装的 `mplfonts` 包里带的 Noto Sans CJK SC（SIL OFL 许可，requirements.txt 已包含），
所以没有 root 权限、没装系统字体的电脑和 Colab 也能显示汉字。
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import matplotlib
from matplotlib import font_manager

# 按优先顺序：Linux（Noto / 思源 / 文泉驿）、Windows（微软雅黑 / 黑体）、macOS（苹方 / 黑体-简）
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
    "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei",
    "SimHei", "PingFang SC", "Heiti SC", "Hiragino Sans GB", "Arial Unicode MS",
)
# mplfonts 还带了别的字体（其中 SimHei 的许可不明），只用这一个 OFL 字体
BUNDLED_FONT_FILE = "NotoSansCJKsc-Regular.otf"

INSTALL_HINT = """没有找到中文字体，图中的汉字会显示成方框。装上课程锁定的字体包再重启内核：
  pip install mplfonts==0.0.11     （或重新运行 make lab / make test，它们按 requirements.txt 安装）
(No CJK font found: pip install mplfonts==0.0.11, then restart the kernel.)"""


def bundled_font_path() -> Path | None:
    """pip 包 mplfonts 里 Noto Sans CJK SC 字体文件的路径；没装这个包时返回 None（不导入它）。"""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / BUNDLED_FONT_FILE
    return path if path.is_file() else None


def _installed(names) -> str | None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in names if n in available), None)


def _register_bundled_font() -> str | None:
    path = bundled_font_path()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def use_chinese_font() -> str | None:
    """选一个中文字体并设为 matplotlib 默认字体，返回其名字；找不到时警告并返回 None。"""
    font = _installed(CJK_FONTS) or _register_bundled_font()
    if font is None:
        warnings.warn(INSTALL_HINT, stacklevel=2)
        return None
    matplotlib.rcParams["font.family"] = "sans-serif"
    others = [f for f in matplotlib.rcParams["font.sans-serif"] if f != font]
    matplotlib.rcParams["font.sans-serif"] = [font, *others]
    matplotlib.rcParams["axes.unicode_minus"] = False  # 负号用 ASCII “-”，中文字体里常缺 “−”
    return font
