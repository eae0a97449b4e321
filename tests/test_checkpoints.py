"""utils/checkpoints.py：检查点与词表、模型设置不符时给出明确的错误。"""
import pytest

from utils.checkpoints import CheckpointError, check_compatible, check_vocab_size
from utils.data import Vocab

VOCAB = Vocab.build(["明月光", "床前"])
CONFIG = {"vocab_size": len(VOCAB), "cell": "lstm", "hidden_dim": 8}


def test_matching_checkpoint_passes():
    check_vocab_size(VOCAB, CONFIG)
    check_compatible(list(VOCAB.id2word), dict(CONFIG), VOCAB, CONFIG)


def test_vocab_size_mismatch():
    with pytest.raises(CheckpointError, match="词表有 9 个字，模型却是按 10 个字"):
        check_vocab_size(VOCAB, {**CONFIG, "vocab_size": 10})


def test_other_vocabulary_names_first_differing_id():
    other = Vocab.build(["明月光", "窗前"])
    with pytest.raises(CheckpointError, match="从第 6 个编号起不一致"):
        check_compatible(other.id2word, CONFIG, VOCAB, CONFIG)


def test_other_model_settings_are_listed():
    with pytest.raises(CheckpointError, match=r"'cell': \('gru', 'lstm'\)"):
        check_compatible(VOCAB.id2word, {**CONFIG, "cell": "gru"}, VOCAB, CONFIG)
