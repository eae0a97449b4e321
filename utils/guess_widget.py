"""「谁是真诗」：第 12 章的盲测小部件。每次给出两首同体裁的诗，一首是模型写的，一首是测试集里的真诗，
左右随机；学生点认为是真诗的那首，马上看到对错、两首各是谁写的（真诗附标题），以及累计的得分。

只用 ipywidgets 的基本部件（与 utils.poem_widget 一样，JupyterLab 4 与 Colab 都能用）。
出题与计分在 GuessGame 里，不依赖部件，tests/test_guess_widget.py 直接检查它。
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from utils.data import poem_form
from utils.poem_cli import format_poem


@dataclass
class GuessGame:
    """pairs 是 [(生成的诗, 真诗, 真诗的标题), …]，两首同体裁；按 seed 打乱题目顺序和左右。"""

    pairs: Sequence[tuple[str, str, str]]
    seed: int = 0
    asked: int = 0
    right: int = 0
    order: list[int] = field(init=False)
    real_on_left: list[bool] = field(init=False)

    def __post_init__(self):
        if not self.pairs:
            raise ValueError("没有题目：至少要一对诗 (no pairs to show)")
        for generated, real, _ in self.pairs:
            if poem_form(generated) != poem_form(real):
                raise ValueError(f"一对诗的体裁不同，一眼就能分出：{generated} / {real} (a pair must share its form)")
        rng = np.random.default_rng(self.seed)
        self.order = rng.permutation(len(self.pairs)).tolist()
        self.real_on_left = (rng.random(len(self.pairs)) < 0.5).tolist()

    @property
    def done(self) -> bool:
        return self.asked >= len(self.pairs)

    def current(self) -> tuple[str, str]:
        """当前这一题：(左边的诗, 右边的诗)。"""
        generated, real, _ = self.pairs[self.order[self.asked]]
        return (real, generated) if self.real_on_left[self.asked] else (generated, real)

    def answer(self, picked_left: bool) -> tuple[bool, str]:
        """学生选了左边（True）或右边：记分，进到下一题。返回 (选对了没有, 真诗的标题)。"""
        if self.done:
            raise ValueError("题目已经做完了 (no questions left)")
        correct = picked_left == self.real_on_left[self.asked]
        title = self.pairs[self.order[self.asked]][2]
        self.asked += 1
        self.right += correct
        return correct, title

    def score(self) -> str:
        if not self.asked:
            return "还没有作答"
        return f"答了 {self.asked} 题，认出真诗 {self.right} 次（{self.right / self.asked:.0%}；全凭猜是 50%）"


class GuessWidget:
    """GuessGame 的部件：两首诗并排，下面两个按钮“左边是真诗”“右边是真诗”。"""

    def __init__(self, game: GuessGame):
        import ipywidgets as w

        self.game = game
        self.left, self.right = w.HTML(), w.HTML()
        self.pick_left = w.Button(description="左边是真诗", button_style="primary")
        self.pick_right = w.Button(description="右边是真诗", button_style="primary")
        self.feedback, self.status = w.HTML(), w.HTML()
        self.pick_left.on_click(lambda _: self.on_pick(True))
        self.pick_right.on_click(lambda _: self.on_pick(False))
        self.widget = w.VBox([w.HBox([self.left, self.right]), w.HBox([self.pick_left, self.pick_right]),
                              self.feedback, self.status])
        self.show()

    @staticmethod
    def _poem(content: str) -> str:
        return f'<pre style="font-size:1.2em;margin-right:3em">{html.escape(format_poem(content))}</pre>'

    def show(self) -> None:
        if self.game.done:
            self.left.value = self.right.value = ""
            self.pick_left.disabled = self.pick_right.disabled = True
        else:
            left, right = self.game.current()
            self.left.value, self.right.value = self._poem(left), self._poem(right)
        self.status.value = f"<p>{html.escape(self.game.score())}</p>"

    def on_pick(self, left: bool) -> None:
        correct, title = self.game.answer(left)
        verdict = "对了" if correct else "错了"
        side = "左边" if self.game.real_on_left[self.game.asked - 1] else "右边"
        self.feedback.value = (f"<p>{verdict}：真诗是{side}那首，《{html.escape(title)}》；另一首是模型写的。</p>")
        self.show()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
