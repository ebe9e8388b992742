# mmpsla entry points. `make setup` is idempotent: each step is skipped when what it
# installs is already importable, and the whole target is a no-op when nothing changed.
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip
TORCH_VERSION ?= 2.13.0
SETUP_STAMP := $(VENV)/.mmpsla-setup
EXT_STAMP := $(VENV)/.mmpsla-ext
OP_SOURCES := $(shell find ops/csrc -type f 2>/dev/null)
# pytest arguments; override e.g. `make test PYTEST_ARGS="-m 'not slow'"`.
PYTEST_ARGS ?=

.PHONY: setup ext demo compare test lint format clean-ext

setup: $(SETUP_STAMP) $(EXT_STAMP)

$(VPY):
	@# Re-use a torch that is already importable (a CUDA build on a GPU box) by letting
	@# the venv see the system site-packages; otherwise the venv is isolated.
	if $(PYTHON) -c 'import torch' 2>/dev/null; then \
		$(PYTHON) -m venv --system-site-packages $(VENV); \
	else \
		$(PYTHON) -m venv $(VENV); \
	fi

$(SETUP_STAMP): $(VPY) setup.py requirements/build.txt requirements/runtime.txt \
		requirements/mmcv.txt requirements/optional.txt requirements/tests.txt
	@echo '==> torch'
	$(VPY) -c 'import torch' 2>/dev/null || $(PIP) install torch==$(TORCH_VERSION)
	@echo '==> build tools and mmengine'
	$(PIP) install -q -r requirements/build.txt mmengine==0.10.7
	@echo '==> mmcv with ops (built from source the first time, ~7 min on 2 cores; pip caches the wheel)'
	$(VPY) -c 'import mmcv.ops' 2>/dev/null || \
		MMCV_WITH_OPS=1 $(PIP) install --no-build-isolation -r requirements/mmcv.txt
	@echo '==> mmdet, mmsegmentation, test and lint tools'
	$(PIP) install -q -r requirements/runtime.txt -r requirements/optional.txt \
		-r requirements/tests.txt
	@echo '==> mmpsla (editable)'
	MMPSLA_WITH_OPS=0 $(PIP) install -q --no-build-isolation --no-deps -e .
	touch $@

# The compiled operator, rebuilt in place whenever a source under ops/csrc changes.
$(EXT_STAMP): $(SETUP_STAMP) $(OP_SOURCES) setup.py
	@echo '==> mmpsla._ext (compiled PSLA operator)'
	$(VPY) setup.py -q build_ext --inplace
	touch $@

ext: $(EXT_STAMP)

clean-ext:
	rm -f $(EXT_STAMP) mmpsla/_ext*.so
	rm -rf build

demo: setup
	$(VPY) tools/demo.py

# Video segmentation (paper Sec. 4.4): PSLA (c) and the frame baseline on the toy
# CityScapes-layout set from one pretrained N_f, one table (mIoU, degraded frames, fps,
# params) + predictions.png. One thread: on 2 shared cores two threads were 6x slower per
# iteration (1.70 against 0.29 s/it pretraining N_f at load 6).
.PHONY: demo-seg
demo-seg: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VPY) tools/demo_seg.py

# The frame baseline, DFF, FGFA, SELSA, TRoI Align and PSLA (c) trained and tested on the
# toy set from one pretrained N_f, one table.
compare: setup
	$(VPY) tools/compare.py

# Seed study: PSLA (c) and the frame baseline over SEEDS seeds (same pretrained N_f),
# mean ± sd, per-seed differences and fps ratios (work_dirs/seeds/seeds.md, .json).
SEEDS ?= 5
.PHONY: seed-study
seed-study: setup
	$(VPY) tools/compare.py --methods frame_baseline psla_c --seeds $(SEEDS) \
		--work-dir work_dirs/seeds

test: setup
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

format: setup
	$(VPY) -m ruff check --fix .
	$(VPY) -m ruff format .
