"""utils/speed.py：用共享的写诗模型交替计时 GRU 与 LSTM。"""
import pytest

from utils.speed import compare_speed, summary


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_compare_speed(framework, torch_one_thread):
    result = compare_speed(framework, vocab=20, embed_dim=4, hidden_dim=8, batch=4, seq_len=5,
                           steps=1, repeats=3, warmup=1)
    assert all(len(result[k]) == 3 for k in ("lstm", "gru", "ratio"))
    assert all(v > 0 for k in ("lstm", "gru") for v in result[k])
    assert result["ratio"][0] == pytest.approx(result["gru"][0] / result["lstm"][0])
    assert "GRU/LSTM" in summary(result) and "3 轮" in summary(result)


def test_bad_input():
    with pytest.raises(ValueError, match="framework"):
        compare_speed("jax", vocab=20)
    with pytest.raises(ValueError, match="vocab"):
        compare_speed("torch", vocab=4)
