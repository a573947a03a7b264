package driver

import (
	"database/sql/driver"
	"io"
	"reflect"
)

// rows is the one-row result of a statement answered in process, with
// the column types pgx would report for PostgreSQL's int8 results.
type rows struct {
	cols []string
	vals []int64
	done bool
	buf  [4]int64 // vals of the common statements, without another allocation
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { return nil }

func (r *rows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	for i, v := range r.vals {
		dest[i] = v
	}
	return nil
}

func (r *rows) ColumnTypeDatabaseTypeName(int) string { return "INT8" }
func (r *rows) ColumnTypeScanType(int) reflect.Type   { return reflect.TypeFor[int64]() }
func (r *rows) ColumnTypeLength(int) (int64, bool)    { return 0, false }

func (r *rows) ColumnTypePrecisionScale(int) (int64, int64, bool) { return 0, 0, false }
