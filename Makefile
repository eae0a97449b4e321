# 两个常用命令：make lab（打开课程）与 make test（跑全部测试）。每个目标自己准备好环境。
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Linux 无 GPU 的电脑可加：PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"
PIP_ARGS ?=
STAMP  := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: setup lab test poem execute data clean-venv bench models

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(PIP_ARGS) -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: $(STAMP)
	COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax tests notebooks

# 命令行写诗，例：make poem ARGS="--form 七绝 --acrostic 春江花月"（第一次运行先训练一个模型）
poem: $(STAMP)
	$(BIN)/python -m utils.poem_cli $(ARGS)

# 完整运行每个笔记本并把输出保存回文件（提交前用）；CoalesceStreamsPreprocessor 在执行之后把进度条的 \r 刷新合并成最后的状态
execute: $(STAMP)
	for nb in notebooks/[0-9]*.ipynb; do \
	  echo "== $$nb"; \
	  COURSE_FAST=0 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=7200 \
	    --Exporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor "$$nb" || exit 1; \
	done

data: $(STAMP)
	$(BIN)/python scripts/build_poems.py

clean-venv:
	rm -rf $(VENV)

# 基准：速度表与“训练多久胜过 n-gram”表（本机空闲时约 30 分钟，结果在 .cache/bench/）
bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py

# 训练第 08 章加载的 6 个模型（两个框架 × 三种循环单元），存在 .cache/models08/
models: $(STAMP)
	$(BIN)/python scripts/benchmark.py models
