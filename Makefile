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
blas_env = $(if $(filter auto,$(BLAS_CORETYPE)),env -u OPENBLAS_CORETYPE,env OPENBLAS_CORETYPE=$(BLAS_CORETYPE))

.PHONY: all help build build-openblas test test-openblas vet demo bench bench-blas peer fuzz clean

all: build

help:
	@echo "make build   build $(BIN)"
	@echo "make build-openblas  build $(BIN) with OpenBLAS behind nn.Gemm (cgo, libopenblas-dev)"
	@echo "make test    go test ./..."
	@echo "make test-openblas   go test -tags openblas ./nn/"
	@echo "make vet     go vet ./..."
	@echo "make demo    build, then run 'mlcu demo --out $(DEMO_DIR)' (caustic-crossing light curve)"
	@echo "make bench   lens micro-benchmarks and 'mlcu bench lens' (EVENTS=$(EVENTS), TOL=$(TOL))"
	@echo "make bench-blas      Gemm GFLOP/s, gonum and OpenBLAS (BLAS_CORETYPE=$(BLAS_CORETYPE))"
	@echo "make peer    time VBMicrolensing against mlcu on the same events (needs python3, PyPI)"
	@echo "make fuzz    short fuzz runs of the input parsers (FUZZTIME=$(FUZZTIME) each)"
	@echo "make clean   remove build outputs and the demo directory"

# Always run go build: its cache makes an up-to-date build cheap, and make cannot see
# every input (module cache, build tags).
build:
	$(GO) build -o $(BIN) ./cmd/mlcu

# The default build stays pure Go (gonum's BLAS); -tags openblas needs cgo and Debian's
# libopenblas-dev.
build-openblas:
	$(GO) build -tags openblas -o $(BIN) ./cmd/mlcu

test:
	$(GO) test ./...

test-openblas:
	$(GO) test -tags openblas ./nn/

vet:
	$(GO) vet ./...

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
