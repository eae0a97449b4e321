"""交互式写诗：在笔记本里选体裁、写藏头字或首句、拖动温度、top-k 和 top-p、打开格律约束，按按钮就写诗。

第 6、7 章末尾用它：PoemWriter(lambda **kw: gen(model, vocab, **kw))；第 12 章的大模型写诗用 utils.poet.write，
给 rules=utils.poet.DEFAULTS（make poem 的默认解码，多出典型采样的滑块和“不重复二字组”的勾选），按题作诗再加 titles=True，
多出“题目”“关键词”两栏和题目分量（无分类器引导）的滑块：
PoemWriter(lambda **kw: write(*writing_step(model), vocab, **kw), rules=DEFAULTS, titles=True)。只用 ipywidgets 的基本部件，
JupyterLab 4（ipywidgets 8）和 Colab（ipywidgets 7.7.1）都能用。输入有误时在部件里显示与命令行
（make poem）相同的中文说明，不打印 traceback。
"""
from __future__ import annotations

import html
from typing import Callable

from utils.checkpoints import CheckpointError
from utils.conditions import split_keywords
from utils.data import FORM_ALIASES
from utils.decoding import DecodingError
from utils.poem_cli import format_poem
from utils.poet import EVERY_LINE

FORMS = ("不限", *FORM_ALIASES)
CHAPTER_RULES = dict(temperature=0.8, top_k=40, top_p=None)  # 第 6、7 章的解码设置


class PoemWriter:
    """写诗小部件。write(**选项) -> 一首诗；选项与各章 gen 的参数相同。rules 是滑块的初始解码设置
    （默认第 6、7 章的）；其中有 repeat_bigrams 时多出典型采样与不重复二字组，write 要接受它们（utils.poet.write）。"""

    def __init__(self, write: Callable[..., str], count: int = 2, titles: bool = False, rules: dict | None = None):
        import ipywidgets as w

        rules = rules or CHAPTER_RULES
        self.write, self.count, self.titles = write, count, titles
        self.title = w.Text(description="题目", placeholder="如 送别（按题作诗）")
        self.keywords = w.Text(description="关键词", placeholder="如 明月，故乡（与题目二选一）")
        self.form = w.Dropdown(options=FORMS, value="五绝", description="体裁")
        self.acrostic = w.Text(description="藏头字", placeholder="如 春江花月（每句第一个字）")
        self.first = w.Text(description="开头", placeholder="首字或首句，如 白日依山尽，")
        self.temperature = w.FloatSlider(value=rules["temperature"], min=0.1, max=1.5, step=0.05, description="温度")
        self.top_k = w.IntSlider(value=rules["top_k"] or 0, min=0, max=200, description="top-k（0：不截断）")
        self.top_p = w.FloatSlider(value=rules["top_p"] or 1.0, min=0.05, max=1.0, step=0.05,
                                   description="top-p（1：不截断）")
        self.poet = "repeat_bigrams" in rules  # utils.poet.write 的两个选项：典型采样、不重复二字组
        self.typical_p = w.FloatSlider(value=rules.get("typical_p") or 1.0, min=0.05, max=1.0, step=0.05,
                                       description="典型采样（1：不用）")
        self.guidance = w.FloatSlider(value=rules.get("guidance", 1.0), min=1.0, max=5.0, step=0.5,
                                      description="题目的分量（1：不加强）")  # 无分类器引导，只在按题作诗时起作用
        self.guided_lines = w.IntSlider(value=rules.get("guided_lines") or EVERY_LINE, min=1, max=EVERY_LINE,
                                        description=f"只引导前几句（{EVERY_LINE}：每句）")
        self.plan = w.Checkbox(value=rules.get("plan", False), description="先由题目挑关键词（规划）")
        self.no_repeat = w.Checkbox(value=not rules.get("repeat_bigrams", True), description="不重复二字组")
        self.metre = w.Checkbox(value=False, description="格律：平仄与押韵（要选体裁）")
        self.button = w.Button(description="写诗", button_style="primary")
        self.output = w.HTML()
        self.button.on_click(self.on_click)
        self.widget = w.VBox([self.form, *((self.title, self.keywords) if titles else ()), self.acrostic,
                              self.first, self.temperature, self.top_k, self.top_p,
                              *((self.typical_p, self.no_repeat) if self.poet else ()),
                              *((self.guidance, self.guided_lines, self.plan) if self.poet and titles else ()), self.metre, self.button,
                              self.output])

    def options(self) -> dict:
        """部件上的选择 -> gen 的参数。"""
        options = dict(form=None if self.form.value == "不限" else self.form.value,
                       acrostic=self.acrostic.value.strip() or None, prefix=self.first.value.strip(),
                       metre=self.metre.value, temperature=self.temperature.value, top_k=self.top_k.value or None,
                       top_p=self.top_p.value if self.top_p.value < 1 else None)
        if self.poet:
            options.update(typical_p=self.typical_p.value if self.typical_p.value < 1 else None,
                           repeat_bigrams=not self.no_repeat.value, guidance=self.guidance.value,
                           guided_lines=self.guided_lines.value, plan=self.plan.value)
        if self.titles:
            words = split_keywords(self.keywords.value)
            options.update(title=self.title.value.strip() or None, keywords=words or None)
        return options

    def on_click(self, _button=None) -> None:
        """按钮的回调：写 count 首诗显示出来；输入有误时显示中文说明。"""
        try:
            poems = [self.write(**self.options()) for _ in range(self.count)]
        except (DecodingError, CheckpointError) as error:
            self.output.value = f'<p style="color:#b00020">{html.escape(str(error))}</p>'
            return
        self.output.value = "".join(f'<pre style="font-size:1.2em">{html.escape(format_poem(p))}</pre>'
                                    for p in poems)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
