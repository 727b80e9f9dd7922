# Every target creates and uses the virtual environment in .venv; nothing relies on what is installed by hand.
PYTHON ?= python3
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DEMO := runs/demo
NYU_FRAME := ../shared/data/real/nyu/depth_1_0000001.png

.PHONY: setup test lint demo bench clean

setup: $(STAMP)

# Reinstall only when the dependency list or the torch pin changes.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# The whole suite at 1 thread in two worker processes (pytest-xdist; each test file on one worker, so that its
# fixtures are made once), then the numeric checks again at 2 threads in one process (OMP_NUM_THREADS sets PyTorch's
# threads and, through handgraph, ONNX Runtime's): every numeric check must hold at both (docs/reliability.md:
# Numbers that hold on any processor). The second pass leaves out what computes no number that threads could change
# (the documented commands, marked slow, the readers' fuzzing and corpus, the killed runs and the distributed run's
# resumption, which compare two runs at one thread count, the wheel, live-camera and no-pickle checks: files and
# processes), and the commands', datasets' and generator's tests (NumPy, whose elementwise rendering threads do not
# change), to keep the whole run within its 10 minutes.
test: lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadscope
	OMP_NUM_THREADS=2 $(BIN)/python -m pytest -q -m "not slow" --ignore=tests/fuzz --ignore=tests/corpus \
		--ignore=tests/training/test_killed_training.py --ignore=tests/training/test_distributed_resume.py \
		--ignore=tests/commands --ignore=tests/datasets --ignore=tests/synth \
		--ignore=tests/test_wheel.py --ignore=tests/test_live.py --ignore=tests/test_no_pickle.py

# Train the default model (hgt) on synthetic frames (about 13 minutes on 2 CPU cores), score it on the
# synthetic test split, and predict the real NYU frame. A finished run is reused; an interrupted one resumes.
demo: setup
	@if [ -f $(DEMO)/model/checkpoint.json ]; then echo "$(DEMO) is trained already (delete it to train again)"; \
	elif [ -f $(DEMO)/checkpoints/latest.json ]; then $(BIN)/handgraph train --config demo --out $(DEMO) --resume; \
	else $(BIN)/handgraph train --config demo --out $(DEMO); fi
	$(BIN)/handgraph evaluate --checkpoint $(DEMO)/model --data synthetic:test --json $(DEMO)/results.json \
		--plots $(DEMO) --predictions $(DEMO)/predictions.txt --overlays $(DEMO)/test_overlays.png | tee $(DEMO)/table.txt
	@if [ -f $(NYU_FRAME) ]; then $(BIN)/handgraph predict --checkpoint $(DEMO)/model --input $(NYU_FRAME) --camera nyu --out $(DEMO)/nyu; fi

# The benchmarks of docs/benchmarks.md: hours on 2 cores (the ablation resumes where it stopped).
# QUICK=1 runs every script in minutes to check them, writing to bench/results/quick/ instead.
BENCH_FLAGS := $(if $(filter-out 0,$(QUICK)),--quick,)
bench: setup
	$(BIN)/python bench/sia_gcn_layer.py $(BENCH_FLAGS)
	$(BIN)/python bench/inference.py $(BENCH_FLAGS)
	$(BIN)/python bench/synth.py $(BENCH_FLAGS)
	$(BIN)/python bench/ablation.py $(BENCH_FLAGS)
	$(BIN)/python bench/refinement.py $(BENCH_FLAGS)
	$(BIN)/python bench/training.py $(BENCH_FLAGS)
	$(BIN)/python bench/localizer.py $(BENCH_FLAGS)
	$(BIN)/python bench/tracking.py $(BENCH_FLAGS)
	$(BIN)/python bench/realism.py $(BENCH_FLAGS)
	$(BIN)/python bench/cache.py $(BENCH_FLAGS)
	$(BIN)/python bench/families.py $(BENCH_FLAGS)
	$(BIN)/python bench/fitting.py $(BENCH_FLAGS)
	$(BIN)/python bench/adapt.py $(BENCH_FLAGS)
	$(BIN)/python bench/fuzz.py $(BENCH_FLAGS)
	$(BIN)/python bench/tolerance_mutations.py $(BENCH_FLAGS)
	$(BIN)/python bench/report.py $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
