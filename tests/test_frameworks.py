"""utils/frameworks.py：一处选框架；两个框架的模块有同样的公开函数。"""
import inspect

import pytest

from utils.frameworks import FRAMEWORKS, NAMES, SHARED, library


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_both_framework_modules_offer_the_same_functions(framework):
    lib = library(framework)
    missing = [name for name in SHARED if not hasattr(lib, name)]
    assert not missing, f"{lib.__name__} 缺 {missing}"
    assert set(NAMES) == set(FRAMEWORKS)


@pytest.mark.parametrize("name", [n for n in SHARED if n[0].islower()])
def test_shared_functions_need_the_same_arguments(name):
    """同名函数必须给的参数相同：调用者不必知道是哪个框架（可选参数各有各的，PyTorch 多一个 device）。"""
    def required(framework):
        params = inspect.signature(getattr(library(framework), name)).parameters.values()
        return [p.name for p in params if p.default is inspect.Parameter.empty and p.kind != p.VAR_KEYWORD]

    assert required("tf") == required("torch")


def test_an_unknown_framework_is_named_in_the_error():
    with pytest.raises(ValueError, match="未知框架 'jax'"):
        library("jax")


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_token_nlls_are_evaluates_terms_in_the_callers_order(framework):
    """token_nlls：每首诗 len-1 个数（<bos> 之后每个字）；全部的平均就是 evaluate；
    与长短不同的诗同批（补齐）和单独算结果相同，顺序与传入的相同。"""
    import numpy as np

    from utils.data import Vocab

    lib = library(framework)
    chars = "春风花月夜山水云江天"
    vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *chars])
    rng = np.random.default_rng(0)
    seqs = [vocab.encode("".join(rng.choice(list(chars), n)) + "。") for n in (9, 3, 14, 5, 3, 7)]
    model = lib.build_model(len(vocab), cell="lstm", embed_dim=16, hidden_dim=12, num_layers=2,
                            adaptive_cutoffs=[8, 12])
    nlls = lib.token_nlls(model, seqs, batch_size=4)
    assert [len(x) for x in nlls] == [len(s) - 1 for s in seqs]
    assert np.all(np.concatenate(nlls) > 0)
    np.testing.assert_allclose(np.concatenate(nlls).mean(), lib.evaluate(model, seqs), rtol=1e-5)
    for seq, nll in zip(seqs, nlls):
        np.testing.assert_allclose(lib.token_nlls(model, [seq])[0], nll, rtol=1e-5, atol=1e-6)
