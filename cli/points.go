package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mlcu/mlcu/lens"
)

// Points is a table of binary lenses and source positions read by ReadPoints. The fields of
// every row are kept as written, so that a command can copy them, extra columns included.
type Points struct {
	Header     []string   // column names, as written (a UTF-8 byte-order mark removed)
	HeaderLine int        // line of the header in the file (1-based)
	Rows       [][]string // fields of each data row
	Lines      []int      // line in the file where each row starts (1-based)

	// Parsed values of each row. Rho is 0 where the rho column is absent or the field is
	// empty, which means a point source.
	S, Q, Y1, Y2, Rho []float64
	HasRho            bool // whether the file has a rho column
}

// pointColumns are the columns that ReadPoints parses; all but rho are required.
var pointColumns = []string{"s", "q", "y1", "y2", "rho"}

// ReadPoints reads a CSV table of points: a header line naming the columns s, q, y1, y2 and
// optionally rho (case-insensitive, any order, other columns allowed and kept), then one
// row per point. Lines that start with '#' are comments; blank lines are skipped. name
// labels errors, each of which names the file and the line: a missing or duplicated
// column, a row with the wrong number of fields, a value that is not a finite number,
// s ≤ 0, q ≤ 0, rho < 0, or a file with no rows.
func ReadPoints(r io.Reader, name string) (*Points, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1 // checked below, so that lines of blanks can be skipped
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: expected a header line naming the columns s,q,y1,y2[,rho]", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	if len(header) > 0 {
		header[0] = string(bytes.TrimPrefix([]byte(header[0]), []byte("\ufeff")))
	}
	hline, _ := cr.FieldPos(0)
	col := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		for _, c := range pointColumns {
			if key != c {
				continue
			}
			if j, dup := col[c]; dup {
				return nil, fmt.Errorf("%s: line %d: column %q appears twice (columns %d and %d)", name, hline, c, j+1, i+1)
			}
			col[c] = i
		}
	}
	for _, c := range pointColumns[:4] {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s: line %d: missing column %q: the header must name s, q, y1, y2 (and optionally rho); found %q",
				name, hline, c, strings.Join(header, ","))
		}
	}
	p := &Points{Header: header, HeaderLine: hline}
	_, p.HasRho = col["rho"]
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue // a line of blanks
			}
			return nil, fmt.Errorf("%s: line %d: %d fields, but the header has %d", name, line, len(rec), len(header))
		}
		var v [5]float64
		for k, c := range pointColumns {
			i, ok := col[c]
			if !ok {
				continue
			}
			f := strings.TrimSpace(rec[i])
			if c == "rho" && f == "" {
				continue // no rho: point source
			}
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %s = %q is not a number", name, line, c, rec[i])
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s: line %d: %s = %v is not finite", name, line, c, x)
			}
			v[k] = x
		}
		if err := lens.ValidateBinary(v[0], v[1]); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", name, line, err)
		}
		if err := lens.ValidateRho(v[4]); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", name, line, err)
		}
		p.Rows = append(p.Rows, rec)
		p.Lines = append(p.Lines, line)
		p.S = append(p.S, v[0])
		p.Q = append(p.Q, v[1])
		p.Y1 = append(p.Y1, v[2])
		p.Y2 = append(p.Y2, v[3])
		p.Rho = append(p.Rho, v[4])
	}
	if len(p.Rows) == 0 {
		return nil, fmt.Errorf("%s: line %d: no data rows after the header", name, hline)
	}
	return p, nil
}

// csvError rewrites an encoding/csv error as "name: line N: reason".
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: line %d: %v", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %v", name, err)
}
