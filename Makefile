# mlcu entry points. `make help` lists them.

GO       ?= go
BIN      ?= bin/mlcu
DEMO_DIR ?= mlcu-demo
FUZZTIME ?= 10s
EVENTS   ?= 20
TOL      ?= 1e-4
PRESET   ?= small
# OpenBLAS kernel variant for bench-blas: "auto" (OpenBLAS's pick for the CPU) or a core
# name such as Haswell. OpenBLAS reads OPENBLAS_CORETYPE when the library loads, so it is
# set in the benchmark's environment here; "auto" removes an inherited value. On the 2-core
# Zen 4 CI machine auto (Cooperlake, AVX-512) measured 1.6-1.9x faster than Haswell.
BLAS_CORETYPE ?= auto
# BLAS is the matrix-product backend (nn.Gemm) of `make build` and of the targets that build
# first (demo, bench, peer): auto takes OpenBLAS where it is usable and gonum's pure Go
# elsewhere; openblas forces OpenBLAS (the build fails without it); gonum forces pure Go.
BLAS ?= auto
$(if $(filter-out auto openblas gonum,$(BLAS)),$(error BLAS=$(BLAS): want auto, openblas or gonum))
# OpenBLAS is usable when cgo is on and package nn builds with -tags openblas: that compiles
# its cgo file (#include <cblas.h>) and links it with -lopenblas (cgo's import step links),
# so it checks the header, the library, the C compiler and CGO_CFLAGS/CGO_LDFLAGS exactly
# as the real build will use them, and its result stays in Go's build cache for that build.
# The cgo test comes first because without cgo the OpenBLAS file is left out and nn builds
# anyway, with gonum. Recursively expanded, so only the targets that build run the check.
openblas_ok = $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && $(GO) build -tags openblas ./nn/ >/dev/null 2>&1 && echo yes)
blas_tag = $(if $(filter openblas,$(BLAS)),openblas,$(if $(filter auto,$(BLAS)),$(if $(openblas_ok),openblas)))
blas_tags = $(if $(blas_tag),-tags $(blas_tag))
comma := ,
# tags_with(tag): -tags with the BLAS tag and tag, comma-separated.
tags_with = -tags $(subst $() $(),$(comma),$(strip $(blas_tag) $(1)))
blas_env = $(if $(filter auto,$(BLAS_CORETYPE)),env -u OPENBLAS_CORETYPE,env OPENBLAS_CORETYPE=$(BLAS_CORETYPE))

.PHONY: all help build build-bin build-openblas test test-openblas vet run train-demo demo eval bench bench-blas peer torch-check fuzz clean \
	cuda-lib cudaemu-lib cuda cudaemu test-cudaemu gpu-bundle test-gpu-check-script \
	cudaemu-asan-lib cudaemu-tsan-lib test-cudaemu-asan test-cudaemu-tsan

all: build

help:
	@echo "make build   build $(BIN), with OpenBLAS behind nn.Gemm where it is usable (BLAS=$(BLAS); BLAS=gonum: pure Go)"
	@echo "make build-openblas  build $(BIN) with OpenBLAS, or fail (cgo, libopenblas-dev): BLAS=openblas"
	@echo "make test    go test ./..."
	@echo "make eval            evaluate the shipped model on 1,000 simulated test events (mlcu-work/eval)"
	@echo "make test-openblas   go test -tags openblas ./nn/"
	@echo "make vet     go vet ./..."
	@echo "make run     the main job: the shipped model on the example events of testdata/examples (samples, corner, draws)"
	@echo "make train-demo  build, simulate 2000+400 events, train the small preset 5 min, sample a val event"
	@echo "make demo    build, then run 'mlcu demo --out $(DEMO_DIR)' (caustic-crossing light curve)"
	@echo "make bench   lens micro-benchmarks and 'mlcu bench lens' (EVENTS=$(EVENTS), TOL=$(TOL))"
	@echo "make bench-blas      Gemm GFLOP/s, gonum and OpenBLAS (BLAS_CORETYPE=$(BLAS_CORETYPE))"
	@echo "make peer    time VBMicrolensing against mlcu on the same events (needs python3, PyPI)"
	@echo "make torch-check     mlcu's model against its PyTorch twin bench/torch_model.py (PRESET=$(PRESET); python3, PyPI's torch or TORCH_VENV)"
	@echo "make fuzz    short fuzz runs of the input parsers (FUZZTIME=$(FUZZTIME) each)"
	@echo "make cuda-lib        build/cuda/libmlcu_cuda.a with nvcc (sm_80, sm_90 SASS + PTX)"
	@echo "make cudaemu-lib     build/cudaemu/libmlcu_cudaemu.a: the kernels on host threads (no GPU, no nvcc)"
	@echo "make cuda    build $(BIN) with -tags cuda (needs nvcc; runs on the CPU where no GPU is found)"
	@echo "make cudaemu build $(BIN) with -tags cudaemu (the emulated CUDA backend)"
	@echo "make test-cudaemu    every CUDA parity test, against the emulation library"
	@echo "make test-cudaemu-asan  the CUDA tests with the kernels under ASan + UBSan (memcheck without a GPU)"
	@echo "make test-cudaemu-tsan  the CUDA tests with the kernels under ThreadSanitizer (racecheck without a GPU)"
	@echo "make gpu-bundle      $(GPU_BUNDLE)/: cuda-tagged mlcu and test binaries + run-gpu-check.sh, for a GPU machine without Go"
	@echo "make test-gpu-check-script  run-gpu-check.sh's verdicts on canned output and a fake bundle (no GPU)"
	@echo "make clean   remove build outputs and the demo directory"

# Always run go build: its cache makes an up-to-date build cheap, and make cannot see
# every input (module cache, build tags). `go build ./...` stays pure Go (gonum's BLAS);
# make build adds -tags openblas where OpenBLAS is usable (BLAS above), and the version line
# after it names the backend that was built in.
# build: with BLAS=auto on a machine without OpenBLAS, installs Debian's libopenblas-dev first
# when it can (root, apt-get, cgo on), saying so; otherwise build-bin says once what the
# pure-Go fallback costs. The build itself is a second make, so that the OpenBLAS check runs
# after the installation.
build:
	@if [ "$(BLAS)" = auto ] && [ "$$($(GO) env CGO_ENABLED)" = 1 ] && ! $(GO) build -tags openblas ./nn/ >/dev/null 2>&1 \
		&& command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "make build: OpenBLAS is missing: installing Debian's libopenblas-dev for the fast matrix products (BLAS=gonum builds pure Go without it)"; \
		{ apt-get update -qq && apt-get install -y -qq libopenblas-dev >/dev/null; } || echo "make build: could not install libopenblas-dev"; \
	fi
	@$(MAKE) --no-print-directory build-bin

build-bin:
	@if [ "$(BLAS)" = auto ] && [ -z "$(openblas_ok)" ]; then \
		echo "make build: no OpenBLAS here: the pure-Go BLAS trains about 3x slower (225 against 734 examples/s measured, small preset, 2 cores); install libopenblas-dev (Debian) for the fast path"; \
	fi
	$(GO) build $(blas_tags) -o $(BIN) ./cmd/mlcu
	@$(BIN) version

build-openblas:
	$(MAKE) build BLAS=openblas

test:
	$(GO) test ./...

test-openblas:
	$(GO) test -tags openblas ./nn/

vet:
	$(GO) vet ./...

# The main job on a fresh machine: `mlcu train` with no arguments simulates a small dataset
# into mlcu-work/data (once; cached), trains the small preset for 5 minutes into
# mlcu-work/model, then posterior samples of one validation event with a corner plot.
# The main job: the shipped model on the two example events of testdata/examples (a
# caustic crossing and a close/wide-degenerate event, with their truth): posterior samples,
# corner plot with the truth, and the light curves of posterior draws over the data.
run: build
	@mkdir -p mlcu-work/examples
	$(BIN) sample --lc testdata/examples/caustic.csv --truth 1.1,0.1,2.7,0.1,36,20,0.001 \
		--n 10000 --out mlcu-work/examples/caustic.npy --plot mlcu-work/examples/caustic_corner.png \
		--lcplot mlcu-work/examples/caustic_draws.png
	$(BIN) sample --lc testdata/examples/closewide.csv --truth 0.5,0.003,0.4,0.015,36,25,0.0005 \
		--n 10000 --out mlcu-work/examples/closewide.npy --plot mlcu-work/examples/closewide_corner.png \
		--lcplot mlcu-work/examples/closewide_draws.png

# Train a model from scratch in 5 minutes (simulate 2,000 + 400 events, train the small
# preset), then sample a validation event with it.
train-demo: build
	$(BIN) train
	$(BIN) sample --model mlcu-work/model --data mlcu-work/data/val --index 0 --n 10000 \
		--out mlcu-work/samples.npy --csv --plot mlcu-work/corner.png

demo: build
	$(BIN) demo --out $(DEMO_DIR)

# The shipped model's evaluation (docs/evaluation.md): 1,000 test events of a split and seed
# never used in training, 2,000 samples each.
eval: build
	$(BIN) simulate --n 1000 --split test --seed 2 --out mlcu-work/test
	$(BIN) eval --data mlcu-work/test --out mlcu-work/eval

bench: build
	$(GO) test -bench . -run '^$$' ./lens/
	$(BIN) bench lens --events $(EVENTS) --tol $(TOL)

bench-blas:
	$(GO) test -bench GemmBackend -run '^$$' -cpu 1,2 ./nn/
	$(blas_env) $(GO) test -tags openblas -bench GemmBackend -run '^$$' -cpu 1,2 -v ./nn/

peer: build
	MLCU=$(BIN) bench/peer.sh --events $(EVENTS) --tol $(TOL) $(if $(MLCU_TOL),--mlcu-tol $(MLCU_TOL))

# The PyTorch twin of the model (bench/torch_model.py): same weights, same log-probabilities,
# gradients and Adam step, in float64. Opt-in like peer: it installs torch from PyPI into a
# temporary venv (several GB) unless TORCH_VENV names a venv that has torch, numpy and
# safetensors.
torch-check: build
	MLCU=$(BIN) bench/torch_check.sh --preset $(PRESET)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReadPoints$$' -fuzztime $(FUZZTIME) ./cli/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./internal/npy/
	$(GO) test -run '^$$' -fuzz '^FuzzReadLightCurve$$' -fuzztime $(FUZZTIME) ./infer/
	$(GO) test -run '^$$' -fuzz '^FuzzMagnification$$' -fuzztime $(FUZZTIME) ./lens/

# ---- CUDA ----
# The kernels (kernels/*.cu) are built by CMake into a static library per flavour; package
# cuda links it by path. Go's build cache does not see the library's contents, so each
# library target writes cuda/libhash_<flavour>.go (git-ignored), whose cgo CFLAGS carry the
# library's SHA-256: a changed library changes the package's cache key and forces the relink,
# for the Makefile's builds and for a plain `go test -tags cudaemu ./...` after it.
CMAKE      ?= cmake
GPU_BUNDLE ?= gpu-bundle
JOBS       ?= 2

# write_libhash(flavour, library, build constraint)
define write_libhash
	@h=$$(sha256sum $(2) | cut -c1-32); \
	printf '//go:build %s\n\n// Code generated by the Makefile (write_libhash); DO NOT EDIT.\n\npackage cuda\n\n// #cgo CFLAGS: -DMLCU_LIB_SHA256=%s\nimport "C"\n' '$(3)' $$h > cuda/libhash_$(1).go.tmp && \
	if cmp -s cuda/libhash_$(1).go.tmp cuda/libhash_$(1).go; then rm cuda/libhash_$(1).go.tmp; else mv cuda/libhash_$(1).go.tmp cuda/libhash_$(1).go; fi
endef

cuda-lib:
	$(CMAKE) -S . -B build/cuda -DMLCU_CUDA=ON -DMLCU_CUDAEMU=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build/cuda -j $(JOBS)
	$(call write_libhash,cuda,build/cuda/libmlcu_cuda.a,cuda)

cudaemu-lib:
	$(CMAKE) -S . -B build/cudaemu -DMLCU_CUDA=OFF -DMLCU_CUDAEMU=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build/cudaemu -j $(JOBS)
	$(call write_libhash,cudaemu,build/cudaemu/libmlcu_cudaemu.a,cudaemu && !mlcu_asan && !mlcu_tsan)

# The emulation library built with a sanitizer (build/cudaemu-asan, build/cudaemu-tsan; the
# build tags mlcu_asan and mlcu_tsan link them): the GPU-free stand-ins for compute-sanitizer.
cudaemu-asan-lib:
	$(CMAKE) -S . -B build/cudaemu-asan -DMLCU_CUDA=OFF -DMLCU_CUDAEMU=ON -DMLCU_SANITIZE=address -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build/cudaemu-asan -j $(JOBS)
	$(call write_libhash,cudaemu_asan,build/cudaemu-asan/libmlcu_cudaemu.a,cudaemu && mlcu_asan)

cudaemu-tsan-lib:
	$(CMAKE) -S . -B build/cudaemu-tsan -DMLCU_CUDA=OFF -DMLCU_CUDAEMU=ON -DMLCU_SANITIZE=thread -DCMAKE_BUILD_TYPE=Release >/dev/null
	$(CMAKE) --build build/cudaemu-tsan -j $(JOBS)
	$(call write_libhash,cudaemu_tsan,build/cudaemu-tsan/libmlcu_cudaemu.a,cudaemu && mlcu_tsan)

cuda: cuda-lib
	$(GO) build $(call tags_with,cuda) -o $(BIN) ./cmd/mlcu
	@$(BIN) version

cudaemu: cudaemu-lib
	$(GO) build $(call tags_with,cudaemu) -o $(BIN) ./cmd/mlcu
	@$(BIN) version

# Every package with CUDA code or CUDA parity tests, under the emulation build.
test-cudaemu: cudaemu-lib
	$(GO) test -tags cudaemu ./...

# The CUDA tests with the kernels under AddressSanitizer + UBSan (out-of-bounds and
# use-after-free reads and writes of device, shared and local memory, undefined behaviour such
# as integer overflow in index arithmetic; Go's -asan links the runtime) and under
# ThreadSanitizer (races between a block's threads; run with the blocks in reverse order,
# MLCU_EMU_BLOCK_ORDER=reverse, so a kernel whose result depends on the order in which its
# blocks run fails a parity test). Each stops at the first report.
# The test binary is built with -c (go test without -c links it without DWARF, and the
# reports would name no file or line) and run in cuda/, as go test would. LeakSanitizer is
# off by default (it needs ptrace, which containers often refuse; the cuda tests track
# device memory themselves): ASAN_OPTIONS=halt_on_error=1 turns it on.
# The packages run: cuda (every kernel) and cli (the commands' device paths, whose
# goroutines call the device concurrently). The conformance suites (TestXxxConformance) are
# skipped there: they run the kernels of the parity tests again, at minutes under TSan.
SANITIZE_PKGS ?= cuda cli
SANITIZE_SKIP ?= Conformance
test-cudaemu-asan: cudaemu-asan-lib
	for p in $(SANITIZE_PKGS); do \
		$(GO) test -c -asan -tags cudaemu,mlcu_asan -o build/cudaemu-asan/$$p.test ./$$p/ && \
		(cd $$p && ASAN_OPTIONS=$${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0} ../build/cudaemu-asan/$$p.test -test.count=1 -test.skip '$(SANITIZE_SKIP)') || exit 1; \
	done

test-cudaemu-tsan: cudaemu-tsan-lib
	for p in $(SANITIZE_PKGS); do \
		$(GO) test -c -tags cudaemu,mlcu_tsan -o build/cudaemu-tsan/$$p.test ./$$p/ && \
		(cd $$p && TSAN_OPTIONS=$${TSAN_OPTIONS:-halt_on_error=1} MLCU_EMU_BLOCK_ORDER=$${MLCU_EMU_BLOCK_ORDER:-reverse} \
			../build/cudaemu-tsan/$$p.test -test.count=1 -test.skip '$(SANITIZE_SKIP)') || exit 1; \
	done

# A self-contained folder for a GPU machine without Go or the source tree: the cuda-tagged
# mlcu, the cuda-tagged test binaries of the packages with CUDA tests, the test data they
# read, the PyTorch twin's training benchmark (torch/, run where python3 has torch), and
# run-gpu-check.sh OUTDIR, which runs them all and writes logs and a benchmark table.
CUDA_TEST_PKGS ?= cuda
# The bundle's binaries are built with -tags cuda only (gonum's pure-Go BLAS, no OpenBLAS):
# with cudart linked statically they need only libc and the driver on the GPU machine.
# Symbols are stripped (-s -w) to keep the folder small enough to carry.
gpu-bundle: cuda-lib
	rm -rf $(GPU_BUNDLE) && mkdir -p $(GPU_BUNDLE)/bin
	$(GO) build -tags cuda -ldflags '-s -w' -o $(GPU_BUNDLE)/bin/mlcu ./cmd/mlcu
	for p in $(CUDA_TEST_PKGS); do mkdir -p $(GPU_BUNDLE)/$$p && \
		$(GO) test -tags cuda -ldflags '-s -w' -c -o $(GPU_BUNDLE)/$$p/$$(basename $$p).test ./$$p/ || exit 1; done
	cp -r testdata $(GPU_BUNDLE)/testdata
	cp scripts/run-gpu-check.sh $(GPU_BUNDLE)/run-gpu-check.sh
	mkdir -p $(GPU_BUNDLE)/torch && cp bench/torch_model.py bench/torch_train_bench.py $(GPU_BUNDLE)/torch/
	printf '%s\n' $(CUDA_TEST_PKGS) > $(GPU_BUNDLE)/packages.txt
	@du -sh $(GPU_BUNDLE)
	@# The device tool carries at most 64 MiB to the GPU machine: fail here, not there.
	@mib=$$(du -sm $(GPU_BUNDLE) | cut -f1); if [ "$$mib" -gt 60 ]; then \
		echo "$(GPU_BUNDLE) is $$mib MiB: the GPU machine can be sent at most 64 MiB" >&2; exit 1; fi

# run-gpu-check.sh must fail a check that tested nothing or whose device dataset differs
# from the CPU's: scripts/test-run-gpu-check.sh feeds it canned output and a fake bundle
# (package cuda's TestGPUCheckScript runs it too, in go test ./...).
test-gpu-check-script:
	bash scripts/test-run-gpu-check.sh

clean:
	rm -rf bin build $(DEMO_DIR) $(GPU_BUNDLE) cpu.prof mem.prof *.test cuda/libhash_*.go
