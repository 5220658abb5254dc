# mlcu entry points. `make help` lists them.

GO       ?= go
BIN      ?= bin/mlcu
DEMO_DIR ?= mlcu-demo
FUZZTIME ?= 10s
EVENTS   ?= 20
TOL      ?= 1e-4
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
blas_tags = $(if $(filter openblas,$(BLAS)),-tags openblas,$(if $(filter auto,$(BLAS)),$(if $(openblas_ok),-tags openblas)))
blas_env = $(if $(filter auto,$(BLAS_CORETYPE)),env -u OPENBLAS_CORETYPE,env OPENBLAS_CORETYPE=$(BLAS_CORETYPE))

.PHONY: all help build build-openblas test test-openblas vet run demo bench bench-blas peer fuzz clean

all: build

help:
	@echo "make build   build $(BIN), with OpenBLAS behind nn.Gemm where it is usable (BLAS=$(BLAS); BLAS=gonum: pure Go)"
	@echo "make build-openblas  build $(BIN) with OpenBLAS, or fail (cgo, libopenblas-dev): BLAS=openblas"
	@echo "make test    go test ./..."
	@echo "make test-openblas   go test -tags openblas ./nn/"
	@echo "make vet     go vet ./..."
	@echo "make run     the main job: build, simulate 2000+400 events, train the small preset 5 min, sample a val event"
	@echo "make demo    build, then run 'mlcu demo --out $(DEMO_DIR)' (caustic-crossing light curve)"
	@echo "make bench   lens micro-benchmarks and 'mlcu bench lens' (EVENTS=$(EVENTS), TOL=$(TOL))"
	@echo "make bench-blas      Gemm GFLOP/s, gonum and OpenBLAS (BLAS_CORETYPE=$(BLAS_CORETYPE))"
	@echo "make peer    time VBMicrolensing against mlcu on the same events (needs python3, PyPI)"
	@echo "make fuzz    short fuzz runs of the input parsers (FUZZTIME=$(FUZZTIME) each)"
	@echo "make clean   remove build outputs and the demo directory"

# Always run go build: its cache makes an up-to-date build cheap, and make cannot see
# every input (module cache, build tags). `go build ./...` stays pure Go (gonum's BLAS);
# make build adds -tags openblas where OpenBLAS is usable (BLAS above), and the version line
# after it names the backend that was built in.
build:
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
run: build
	$(BIN) train
	$(BIN) sample --model mlcu-work/model --data mlcu-work/data/val --index 0 --n 10000 \
		--out mlcu-work/samples.npy --csv --plot mlcu-work/corner.png

demo: build
	$(BIN) demo --out $(DEMO_DIR)

bench: build
	$(GO) test -bench . -run '^$$' ./lens/
	$(BIN) bench lens --events $(EVENTS) --tol $(TOL)

bench-blas:
	$(GO) test -bench GemmBackend -run '^$$' -cpu 1,2 ./nn/
	$(blas_env) $(GO) test -tags openblas -bench GemmBackend -run '^$$' -cpu 1,2 -v ./nn/

peer: build
	MLCU=$(BIN) bench/peer.sh --events $(EVENTS) --tol $(TOL) $(if $(MLCU_TOL),--mlcu-tol $(MLCU_TOL))

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReadPoints$$' -fuzztime $(FUZZTIME) ./cli/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./internal/npy/
	$(GO) test -run '^$$' -fuzz '^FuzzMagnification$$' -fuzztime $(FUZZTIME) ./lens/

clean:
	rm -rf bin $(DEMO_DIR) cpu.prof mem.prof *.test
