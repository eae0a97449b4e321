"""models/ 里随仓库提交的第 6、7 章检查点：文件与记录相符、数据没变，读进来在测试集上的困惑度就是记录的那个数。"""
import math

import pytest

from utils import course_models, provenance
from utils.frameworks import library
from utils.data import process_dataset
from utils.settings import POEMS_PATH

FIELDS = {"checkpoint", "sha256", "made_by", "code", "finished", "machine", "steps", "training_minutes",
          "tokens_per_second", "data", "data_sha256", "valid_perplexity", "test_perplexity"}


@pytest.fixture(scope="module")
def data():
    return process_dataset()


@pytest.mark.parametrize("framework", ["tf", "torch"])
def test_the_shipped_checkpoint_is_what_its_record_says(framework, data, torch_one_thread):
    path = course_models.shipped_path(framework)
    facts = course_models.read_provenance(path)
    assert set(facts) == FIELDS
    assert facts["checkpoint"] == path.name and facts["steps"] == course_models.STEPS[framework]
    assert provenance.sha256(path) == facts["sha256"], "文件与记录的 sha256 不同"
    assert provenance.sha256(POEMS_PATH) == facts["data_sha256"], "poems.txt 变了：检查点要重新训练"
    lib = library(framework)
    model, vocab = lib.load_checkpoint(path)
    assert vocab.id2word == data.vocab.id2word
    test_ppl = math.exp(lib.evaluate(model, data.test))
    # 别的 CPU（AVX2 与 AVX-512）算出的舍入略有不同；差 0.5 % 以上就是另一个模型或另一份测试集
    assert test_ppl == pytest.approx(facts["test_perplexity"], rel=5e-3)
