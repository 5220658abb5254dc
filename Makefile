# mlcu entry points. `make help` lists them.

GO       ?= go
BIN      ?= bin/mlcu
DEMO_DIR ?= mlcu-demo
FUZZTIME ?= 10s
EVENTS   ?= 20
TOL      ?= 1e-4

.PHONY: all help build test vet demo bench peer fuzz clean

all: build

help:
	@echo "make build   build $(BIN)"
	@echo "make test    go test ./..."
	@echo "make vet     go vet ./..."
	@echo "make demo    build, then run 'mlcu demo --out $(DEMO_DIR)' (caustic-crossing light curve)"
	@echo "make bench   lens micro-benchmarks and 'mlcu bench lens' (EVENTS=$(EVENTS), TOL=$(TOL))"
	@echo "make peer    time VBMicrolensing against mlcu on the same events (needs python3, PyPI)"
	@echo "make fuzz    short fuzz runs of the input parsers (FUZZTIME=$(FUZZTIME) each)"
	@echo "make clean   remove build outputs and the demo directory"

# Always run go build: its cache makes an up-to-date build cheap, and make cannot see
# every input (module cache, build tags).
build:
	$(GO) build -o $(BIN) ./cmd/mlcu

test:
	$(GO) test ./...

vet:
	$(GO) vet ./...

demo: build
	$(BIN) demo --out $(DEMO_DIR)

bench: build
	$(GO) test -bench . -run '^$$' ./lens/
	$(BIN) bench lens --events $(EVENTS) --tol $(TOL)

peer: build
	MLCU=$(BIN) bench/peer.sh --events $(EVENTS) --tol $(TOL) $(if $(MLCU_TOL),--mlcu-tol $(MLCU_TOL))

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzReadPoints$$' -fuzztime $(FUZZTIME) ./cli/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./internal/npy/
	$(GO) test -run '^$$' -fuzz '^FuzzMagnification$$' -fuzztime $(FUZZTIME) ./lens/

clean:
	rm -rf bin $(DEMO_DIR) cpu.prof mem.prof *.test
