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


POET_FIELDS = {"checkpoint", "sha256", "made_by", "code", "started", "finished", "machine", "steps",
               "training_minutes", "tokens_per_second", "model", "vocab_size", "data", "evals",
               "valid_perplexity", "test_perplexity"}


def test_the_shipped_poet_is_what_its_record_says(data, torch_one_thread):
    """models/poet.pt（第 12 章的大模型，make poem 默认用它）：sha256、唐诗数据没变、测试集困惑度与记录相符；
    它的词表是唐诗训练集的词表加上按题作诗的分隔符，所以与第 6、7 章的困惑度可比。"""
    path = course_models.SHIPPED_DIR / "poet.pt"
    facts = course_models.read_provenance(path)
    stages, record = [], facts
    while record is not None:  # 微调出来的：前一段的记录（以前随仓库提交的大模型）也完整，一层套一层直到第一段
        assert set(record) - {"fine_tuned_from"} == POET_FIELDS
        assert record["made_by"].count("--init") == ("fine_tuned_from" in record)
        stages.append(record)
        record = record.get("fine_tuned_from")
    # 第 12 章的预算：各段合计不超过两小时（每段的分钟数记到 0.1，所以容许每段 0.05 的舍入）
    assert sum(stage["training_minutes"] for stage in stages) <= 120 + 0.05 * len(stages)
    assert course_models.poet_checkpoint() == path, "文件与记录的 sha256 不同"
    assert facts["data"]["data/poems.txt"] == provenance.sha256(POEMS_PATH), "poems.txt 变了：大模型要重新训练"
    model, vocab = library("torch").load_checkpoint(path)
    assert len(vocab) == facts["vocab_size"] and vocab.id2word[:len(data.vocab)] == data.vocab.id2word
    test_ppl = math.exp(library("torch").evaluate(model, data.test))
    assert test_ppl == pytest.approx(facts["test_perplexity"], rel=5e-3)
