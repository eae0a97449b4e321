"""用 matplotlib 画 RNN 的结构图：折叠的（一个带自环的单元）与按时间展开的。第 1 章使用。"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

COLORS = {"X": "#cfe2f3", "S": "#fce5cd", "Q": "#d9ead3"}


def _node(ax, x, y, text, kind, w=0.9, h=0.55):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=COLORS[kind], ec="#444444", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def _arrow(ax, start, end, label=None, color="#333333", rad=0.0, offset=(0.12, 0.0), **kw):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.4,
                                 color=color, connectionstyle=f"arc3,rad={rad}", **kw))
    if label:
        mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
        ax.text(mx, my, label, color=color, fontsize=12, fontweight="bold", ha="left", va="center")


def _column(ax, x, t):
    """一列：X_t → S_t → Q_t，箭头上标 U、V。"""
    _node(ax, x, 0, f"$X_{{{t}}}$", "X")
    _node(ax, x, 1.4, f"$S_{{{t}}}$", "S")
    _node(ax, x, 2.8, f"$Q_{{{t}}}$", "Q")
    _arrow(ax, (x, 0.3), (x, 1.1), "U")
    _arrow(ax, (x, 1.7), (x, 2.5), "V")


def draw_rnn(steps=("t-1", "t", "t+1"), recurrent: bool = True, ax=None):
    """左边画折叠的 RNN（S 上的自环就是 W），右边画按时间展开的若干步。

    recurrent=False 时不画 W：每一步就是同一个全连接网络各算各的，步与步之间没有信息流动。
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 + 1.9 * len(steps), 3.6))
    w_color = "#cc0000"
    # 折叠图
    _column(ax, 0, "t")
    if recurrent:
        ax.add_patch(FancyArrowPatch((0.45, 1.55), (0.45, 1.25), arrowstyle="-|>", mutation_scale=14,
                                     lw=1.4, color=w_color, connectionstyle="arc3,rad=-2.2"))
        ax.text(1.02, 1.4, "W", color=w_color, fontsize=12, fontweight="bold", va="center")
    ax.text(0, -0.75, "折叠" if recurrent else "去掉 W", ha="center", fontsize=11)
    ax.text(1.45, 1.4, "=", fontsize=20, ha="center", va="center")
    # 展开图
    xs = [2.3 + 1.9 * i for i in range(len(steps))]
    for x, t in zip(xs, steps):
        _column(ax, x, t)
    if recurrent:
        _arrow(ax, (xs[0] - 1.15, 1.4), (xs[0] - 0.48, 1.4), color=w_color, linestyle="--")
        for a, b in zip(xs, xs[1:]):
            _arrow(ax, (a + 0.48, 1.4), (b - 0.48, 1.4), "W", color=w_color, offset=(-0.12, 0.22))
        _arrow(ax, (xs[-1] + 0.48, 1.4), (xs[-1] + 1.15, 1.4), color=w_color, linestyle="--")
    ax.text((xs[0] + xs[-1]) / 2, -0.75, "按时间展开：每一步共用同一组 U、W、V" if recurrent
            else "每一步是同一个全连接网络，互不相连", ha="center", fontsize=11)
    ax.set_xlim(-0.8, xs[-1] + 1.3)
    ax.set_ylim(-1.0, 3.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
