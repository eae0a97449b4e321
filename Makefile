# 两个常用命令：make lab（打开课程）与 make test（跑全部测试）。每个目标自己准备好环境。
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Linux 无 GPU 的电脑可加：PIP_ARGS="--extra-index-url https://download.pytorch.org/whl/cpu"
PIP_ARGS ?=
STAMP  := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
export TF_CPP_MIN_LOG_LEVEL ?= 3

# 支持的 Python：3.11–3.13（numpy 2.4 要 ≥ 3.11，TensorFlow 2.21 没有 3.14 的包）
SUPPORTED := 3.11 3.12 3.13
# Colab 的版本（requirements-colab.txt）用 Python 3.13 测
COLAB_PYTHON ?= python3.13
COLAB_VENV := .venv-colab
UV_VERSION := 0.13.9
# 课程网站与浏览器测试的环境（requirements-book.txt，不含 TensorFlow / PyTorch）
BOOK_VENV := .venv-book

.PHONY: help setup lab test poem execute data clean-venv bench check-python check-platforms test-colab diagrams bench-levers bench-malloc train-ddp bench-ddp book serve-book test-browser

# 不带目标的 make 只准备 .venv（setup）；make help 列出全部目标
.DEFAULT_GOAL := setup

help: ## 列出全部目标，每个一行（就是这张表）
	@grep -E '^[a-zA-Z_-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | awk -F ':.*## ' '{printf "make %-16s %s\n", $$1, $$2}'

setup: $(STAMP) ## 建 .venv 并按 requirements.txt 安装（其他目标需要时自动做；不带目标的 make 就是它）

check-python: ## 检查 python3（或 PYTHON= 指定的）是 Python 3.11–3.13，不是就说明怎么指定
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	case " $(SUPPORTED) " in *" $$v "*) exit 0;; esac; \
	echo "本课程需要 Python 3.11、3.12 或 3.13，而 $(PYTHON) 是 $${v:-（找不到或运行不了）}：装一个支持的版本，再这样指定它：make lab PYTHON=python3.12"; \
	echo "(Python 3.11-3.13 required; e.g. make lab PYTHON=python3.12)"; exit 1

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(MAKE) --no-print-directory check-python PYTHON=$(PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check $(PIP_ARGS) -r requirements.txt
	touch $(STAMP)

lab: $(STAMP) ## 打开课程：在 notebooks/ 上启动 JupyterLab
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: $(STAMP) ## 跑全部测试：tests/ + 快速模式执行每个笔记本（CI 跑）
	COURSE_FAST=1 $(BIN)/python -m pytest --nbval-lax tests notebooks

# 用 Colab 的版本（requirements-colab.txt，Python 3.13）跑同样的测试，环境建在 .venv-colab
$(COLAB_VENV)/.installed: requirements-colab.txt
	test -x $(COLAB_VENV)/bin/python || $(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-colab.txt
	touch $@

test-colab: $(COLAB_VENV)/.installed ## 用 Colab 的版本（requirements-colab.txt，Python 3.13）再跑一遍测试（CI 跑）
	COURSE_FAST=1 $(COLAB_VENV)/bin/python -m pytest --nbval-lax tests notebooks

# 检查依赖在 Linux / macOS / Windows × Python 3.11–3.13 上都解析得了（用 uv 按目标平台解析，只查元数据不下载）
check-platforms: $(STAMP) ## 检查依赖在 Linux / macOS / Windows × Python 3.11–3.13 都解析得了（CI 跑）
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/python -m scripts.check_platforms

# 命令行写诗，例：make poem ARGS="--form 七绝 --acrostic 春江花月"（第一次运行先训练一个模型）
poem: $(STAMP) ## 命令行写诗，例：make poem ARGS="--form 七绝 --acrostic 春江花月"
	$(BIN)/python -m utils.poem_cli $(ARGS)

# 完整运行每个笔记本并把输出保存回文件（提交前用）；CoalesceStreamsPreprocessor 在执行之后把进度条的 \r 刷新合并成最后的状态
execute: $(STAMP) ## 完整运行每个笔记本并把输出保存回文件（提交前用，很慢）
	for nb in notebooks/[0-9]*.ipynb; do \
	  echo "== $$nb"; \
	  COURSE_FAST=0 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=7200 \
	    --Exporter.preprocessors=nbconvert.preprocessors.CoalesceStreamsPreprocessor "$$nb" || exit 1; \
	done

# 语料 poems.txt，以及格律用的古平仄表 tones.tsv 与平水韵表 pingshui.tsv（见 data/README.md）
data: $(STAMP) ## 重新生成语料 poems.txt 与格律表 tones.tsv、pingshui.tsv（要 npm）
	$(BIN)/python -m scripts.build_poems
	$(BIN)/python -m scripts.build_metre

clean-venv: ## 删掉 .venv（换 Python 版本时用）
	rm -rf $(VENV)

# 基准：速度表（scripts/bench_speed.py）与“训练多久胜过 n-gram”表（scripts/bench_quality.py）（作者的 2 核测试机空闲时约 80 分钟，其中达标时间表 74 分钟；结果在 .cache/bench/，
# 作者测试机上的一份提交在 results/bench/）
bench: $(STAMP) ## 基准：速度表与“训练多久胜过 n-gram”表（很慢）
	$(BIN)/python -m scripts.bench_speed
	$(BIN)/python -m scripts.bench_quality

# 杠杆表：线程、批大小、自适应 softmax、XLA 各自与合起来，两个框架各训练几分钟（结果在 .cache/bench/levers.json）
bench-levers: $(STAMP) ## 杠杆表：线程、批大小、自适应 softmax、XLA、LSTM 融合算子（很慢；--only 只跑几种）
	$(BIN)/python -m scripts.bench_levers

# 内存分配：glibc 默认与“留住释放的大块内存”（utils/allocator.py）的对照，三种情形各训练 80 步（结果在 .cache/bench/malloc.json）
bench-malloc: $(STAMP) ## 内存分配：glibc 默认与留住大块内存的对照
	$(BIN)/python -m scripts.bench_malloc

# 数据并行训练第 7 章的模型：make train-ddp NPROC=2（ARGS 传给 scripts/train_ddp.py，如 ARGS="--steps 300"）
NPROC ?= 2
train-ddp: $(STAMP) ## 数据并行训练第 7 章的模型：make train-ddp NPROC=2
	$(BIN)/torchrun --standalone --nproc_per_node=$(NPROC) -m scripts.train_ddp $(ARGS)

# 1 个进程 × 全部核 对 每核 1 个进程：轮流多次启动，每秒字数（中位数与最低–最高）、全归约占的时间、训练多久胜过 4-gram（第 10 章）
bench-ddp: $(STAMP) ## 1 个进程 × 全部核 对 每核 1 个进程（第 10 章）
	$(BIN)/python -m scripts.bench_ddp $(ARGS)


# 把 notebooks/diagrams/*.mmd 画成图片嵌进笔记本（要 Chromium 与 npm；源文件没变的跳过，ARGS=--force 全部重画）
diagrams: $(STAMP) ## 把 notebooks/diagrams/*.mmd 画成图片嵌进笔记本（要 Chromium 与 npm）
	$(BIN)/python -m scripts.render_diagrams $(ARGS)

# 课程网站：README 与提交的笔记本 -> _build/book/html（不重新执行笔记本，不用 CDN；第一次要 npm 下载 MathJax 与 mermaid）
$(BOOK_VENV)/.installed: requirements-book.txt
	@test -x $(BOOK_VENV)/bin/python || $(MAKE) --no-print-directory check-python PYTHON=$(PYTHON)
	test -x $(BOOK_VENV)/bin/python || $(PYTHON) -m venv $(BOOK_VENV)
	$(BOOK_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-book.txt
	touch $@

book: $(BOOK_VENV)/.installed ## 生成课程网站到 _build/book/html（要 npm）
	$(BOOK_VENV)/bin/python -m scripts.build_book

# 在 http://127.0.0.1:8000 打开网站（Ctrl-C 停止）
serve-book: book ## 在 http://127.0.0.1:8000 打开网站（Ctrl-C 停止）
	$(BOOK_VENV)/bin/python -m http.server --bind 127.0.0.1 --directory _build/book/html 8000

# 在无头 Chromium 里逐页检查网站，并在 JupyterLab 里点写诗小部件的按钮（要 apt-get install chromium chromium-driver）
test-browser: book $(STAMP) ## 在无头 Chromium 里检查网站与写诗小部件（要 chromium、chromium-driver；CI 跑）
	COURSE_BROWSER_TESTS=1 $(BOOK_VENV)/bin/python -m pytest tests/browser
