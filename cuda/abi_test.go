package cuda

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOnlyABIFileUsesCgo checks that abi.go is the package's only cgo file (besides the
// Makefile's generated libhash_*.go, which only carry a cgo flag): every C ABI call goes
// through a checked wrapper there.
func TestOnlyABIFileUsesCgo(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if f == "abi.go" || strings.HasPrefix(f, "libhash_") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		af, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			if im.Path.Value == `"C"` {
				t.Errorf("%s imports \"C\": call the C ABI through abi.go's wrappers", f)
			}
		}
	}
}
