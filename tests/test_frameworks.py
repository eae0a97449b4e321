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
