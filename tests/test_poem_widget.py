"""utils/poem_widget.py：按钮的回调直接调用（不需要浏览器），写出的诗合乎选择，输入有误时显示中文说明。"""
import pytest
import torch

from utils.data import Vocab
from utils.metrics import classical_rhymes, classical_tone_ok, poem_lines
from utils.metre import tone_table
from utils.poem_widget import PoemWriter
from utils.torch_poems import build_model, gen

VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *tone_table()])


@pytest.fixture(scope="module")
def writer():
    torch.manual_seed(0)
    model = build_model(len(VOCAB), device=torch.device("cpu"), cell="gru", embed_dim=8, hidden_dim=8,
                        num_layers=1)
    return PoemWriter(lambda **kw: gen(model, VOCAB, **kw), count=2)


def poems_shown(writer):
    return [p.split(">", 1)[1] for p in writer.output.value.split("</pre>") if p]


def test_the_button_writes_poems_in_the_chosen_form(writer):
    writer.form.value, writer.acrostic.value, writer.metre.value = "七绝", "春江花月", True
    writer.on_click()
    shown = poems_shown(writer)
    assert len(shown) == 2
    for poem in shown:
        content = poem.replace("\n", "")
        assert [line[0] for line in poem_lines(content)] == list("春江花月")
        assert classical_rhymes(content) and classical_tone_ok(content), content


@pytest.mark.parametrize("change, message", [
    (dict(acrostic="春江花月夜"), "只有 4 句"),            # 藏头字多于句数
    (dict(first="龘"), "不在词表"),                        # 字不在词表里
    (dict(form="不限", metre=True), "格律约束要先定体裁"),
])
def test_bad_input_shows_the_same_message_as_the_command_line(writer, change, message):
    writer.form.value, writer.acrostic.value, writer.first.value, writer.metre.value = "五绝", "", "", False
    for name, value in change.items():
        getattr(writer, name).value = value
    writer.on_click()
    assert message in writer.output.value and "Traceback" not in writer.output.value


def test_the_title_fields_reach_the_writer_only_when_asked_for():
    from utils.poet import DEFAULTS

    seen = []
    plain = PoemWriter(lambda **kw: seen.append(kw) or "春风花月夜，山水白云天。", count=1)
    plain.on_click()
    assert "title" not in seen[-1] and plain.title not in plain.widget.children
    titled = PoemWriter(lambda **kw: seen.append(kw) or "春风花月夜，山水白云天。", count=1, titles=True)
    titled.title.value = " 送别 "
    titled.on_click()
    assert seen[-1]["title"] == "送别" and seen[-1]["keywords"] is None
    titled.title.value, titled.keywords.value = "", "明月， 故乡"
    titled.on_click()
    assert seen[-1]["title"] is None and seen[-1]["keywords"] == ["明月", "故乡"]
    assert titled.title in titled.widget.children
    guided = PoemWriter(lambda **kw: seen.append(kw) or "春风花月夜，山水白云天。", count=1, titles=True,
                        rules=DEFAULTS | dict(guidance=2.5))
    assert guided.guidance in guided.widget.children and guided.guidance.value == 2.5
    assert guided.guided_lines in guided.widget.children and guided.guided_lines.value == DEFAULTS["guided_lines"]
    guided.guidance.value, guided.guided_lines.value = 4.0, 8
    guided.on_click()
    assert seen[-1]["guidance"] == 4.0 and seen[-1]["guided_lines"] == 8


def test_decoding_rules_start_the_sliders_and_reach_the_writer():
    """默认是第 6、7 章的温度 0.8、top-k 40；rules=DEFAULTS 时滑块从 make poem 的默认开始，多一个“不重复二字组”。"""
    from utils.poet import DEFAULTS

    seen = []
    plain = PoemWriter(lambda **kw: seen.append(kw) or "春风花月夜，山水白云天。", count=1)
    plain.on_click()
    assert (seen[-1]["temperature"], seen[-1]["top_k"], seen[-1]["top_p"]) == (0.8, 40, None)
    assert "repeat_bigrams" not in seen[-1] and plain.no_repeat not in plain.widget.children
    poet = PoemWriter(lambda **kw: seen.append(kw) or "春风花月夜，山水白云天。", count=1, rules=DEFAULTS)
    poet.on_click()
    assert {k: seen[-1][k] for k in DEFAULTS} == DEFAULTS
    poet.top_k.value, poet.top_p.value, poet.typical_p.value, poet.no_repeat.value = 0, 0.9, 0.5, True
    poet.on_click()
    assert [seen[-1][k] for k in ("top_k", "top_p", "typical_p", "repeat_bigrams")] == [None, 0.9, 0.5, False]
