// Package testutil holds the helpers that the tests of several packages share: the reader of
// the reference tables in the repository's testdata/, random vectors, and directory
// snapshots. It is imported by tests only.
package testutil

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestdataDir returns the repository's testdata directory (the one with README.md; a
// package's own testdata, such as a fuzz corpus, has none), found by walking up from the
// working directory: a package's directory under go test, or a package folder of the GPU
// bundle, which has no go.mod.
func TestdataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		td := filepath.Join(dir, "testdata")
		if _, err := os.Stat(filepath.Join(td, "README.md")); err == nil {
			return td
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil: no testdata/README.md above the working directory")
		}
		dir = parent
	}
}

// readCSV reads testdata/name (gzip-compressed when it ends in .gz; '#' lines are
// comments) and returns its header and records.
func readCSV(t testing.TB, name string) (header []string, records [][]string) {
	t.Helper()
	path := filepath.Join(TestdataDir(t), name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = gz
	}
	cr := csv.NewReader(r)
	cr.Comment = '#'
	header, err = cr.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return header, records
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		records = append(records, rec)
	}
}

// RefRows reads the reference table testdata/name as one map per row, column name → text.
func RefRows(t testing.TB, name string) []map[string]string {
	t.Helper()
	header, recs := readCSV(t, name)
	rows := make([]map[string]string, len(recs))
	for i, rec := range recs {
		m := make(map[string]string, len(header))
		for j, h := range header {
			m[h] = rec[j]
		}
		rows[i] = m
	}
	return rows
}

// RefColumns reads the reference table testdata/name as columns of numbers; a text column
// (a region label) reads as NaN.
func RefColumns(t testing.TB, name string) map[string][]float64 {
	t.Helper()
	header, recs := readCSV(t, name)
	cols := make(map[string][]float64, len(header))
	for _, rec := range recs {
		for j, h := range header {
			v, err := strconv.ParseFloat(rec[j], 64)
			if err != nil {
				v = math.NaN()
			}
			cols[h] = append(cols[h], v)
		}
	}
	return cols
}

// Num parses the column key of a RefRows row as a number.
func Num(t testing.TB, row map[string]string, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(row[key], 64)
	if err != nil {
		t.Fatalf("column %s: %v", key, err)
	}
	return v
}

// RandVec returns n standard normal draws from r.
func RandVec(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// Snapshot returns the name and content of every file directly in dir; an empty map when
// dir does not exist. Two snapshots compare with maps.Equal.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return files
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}
