"""utils/guess_widget.py：「谁是真诗」的出题、计分与按钮（直接调用回调，不需要浏览器）。"""
import pytest

from utils.guess_widget import GuessGame, GuessWidget

REAL = [("床前明月光，疑是地上霜。举头望明月，低头思故乡。", "静夜思"),
        ("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", "登鹳雀楼"),
        ("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。", "春晓"),
        ("千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。", "江雪")]
FAKE = ["春风花月夜，山水白云天。明月照深山，故人何处还。",
        "江上秋风起，山中夜雨来。孤舟何处去，明月照楼台。",
        "白云生远岫，流水绕孤村。独坐空山里，无人共一尊。",
        "落日照江天，孤帆远影边。故人今不见，独立夕阳前。"]
PAIRS = [(fake, real, title) for fake, (real, title) in zip(FAKE, REAL)]


def test_each_pair_is_shown_once_with_the_real_poem_on_a_random_side():
    game = GuessGame(PAIRS, seed=3)
    shown, sides = [], []
    while not game.done:
        left, right = game.current()
        real_left = left in dict(REAL)
        assert (right in dict(REAL)) != real_left          # 一首真诗、一首生成的
        shown.append(left if real_left else right)
        sides.append(real_left)
        game.answer(picked_left=True)
    assert sorted(shown) == sorted(dict(REAL))
    assert game.right == sum(sides) and game.asked == 4
    assert GuessGame(PAIRS, seed=3).real_on_left == game.real_on_left       # 种子定了，题目就定了
    with pytest.raises(ValueError, match="做完"):
        game.answer(True)


def test_a_pair_of_different_forms_or_no_pairs_is_refused():
    with pytest.raises(ValueError, match="体裁不同"):
        GuessGame([("朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。", *REAL[0])])
    with pytest.raises(ValueError, match="没有题目"):
        GuessGame([])


def test_the_buttons_score_and_say_which_poem_was_real():
    widget = GuessWidget(GuessGame(PAIRS[:2], seed=0))
    assert "还没有作答" in widget.status.value
    real_left = widget.game.real_on_left[0]
    widget.on_pick(real_left)                                # 选对
    assert "对了" in widget.feedback.value and "1 次（100%" in widget.status.value
    title = widget.game.pairs[widget.game.order[0]][2]
    assert f"《{title}》" in widget.feedback.value
    widget.on_pick(not widget.game.real_on_left[1])          # 选错
    assert "错了" in widget.feedback.value and "答了 2 题" in widget.status.value
    assert widget.pick_left.disabled and widget.pick_right.disabled
