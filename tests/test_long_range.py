"""utils/long_range.py：任务数据、遗忘门偏置只改遗忘门那一块、第 4、5 章用的 long_range_accuracy。"""
import numpy as np
import pytest
import torch

from utils.long_range import (LONG_RANGE_MODELS, first_token_model, first_token_task,
                              fit_first_token, long_range_accuracy, vocab_size)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_first_token_task():
    x, y = first_token_task(50, gap=7, seed=3)
    assert x.shape == (50, 9) and (x[:, 0] == y).all()
    assert ((x[:, 1:-1] >= 4) & (x[:, 1:-1] < 8)).all() and (x[:, -1] == vocab_size() - 1).all()


def test_forget_bias_changes_only_the_forget_block():
    """PyTorch 的门顺序 i, f, g, o：只有 bias_ih 的第二块加了 forget_bias，其余参数一个不差。"""
    H = 6
    torch.manual_seed(0)
    plain = first_token_model("lstm", hidden=H).state_dict()
    torch.manual_seed(0)
    shifted = first_token_model("lstm", hidden=H, forget_bias=1.5).state_dict()
    for name, value in plain.items():
        diff = (shifted[name] - value).numpy()
        expected = np.zeros_like(diff)
        if name == "rnn.bias_ih_l0":
            expected[H:2 * H] = 1.5
        np.testing.assert_allclose(diff, expected, atol=1e-6, err_msg=name)


def test_forget_bias_needs_lstm():
    with pytest.raises(ValueError, match="LSTM"):
        first_token_model("gru", forget_bias=1.0)
    with pytest.raises(ValueError, match="cell"):
        fit_first_token("transformer", gap=2)


def test_forget_bias_helps_long_gap():
    """间隔 15、训练 100 步：默认 LSTM 还在随机水平，遗忘门偏置加 1 的已经学会（第 4 章的结论，缩小版）。"""
    plain = fit_first_token("lstm", gap=15, steps=100, seed=1)
    biased = fit_first_token("lstm", gap=15, steps=100, seed=1, forget_bias=1.0)
    assert plain < 0.4 and biased > 0.9


def test_long_range_accuracy():
    """按名字选模型、对种子取平均；短间隔上 GRU 学得会；名字写错时报错。"""
    assert LONG_RANGE_MODELS == ("RNN", "LSTM", "LSTM b_f+1", "GRU")
    assert long_range_accuracy("GRU", gap=2, steps=200) > 0.9
    seeds = (0, 1)
    expected = np.mean([fit_first_token("lstm", 4, steps=30, seed=s, forget_bias=1.0) for s in seeds])
    assert long_range_accuracy("LSTM b_f+1", gap=4, steps=30, seeds=seeds) == expected
    with pytest.raises(ValueError, match="model"):
        long_range_accuracy("Transformer", gap=2)
