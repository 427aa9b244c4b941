package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"spaceauth/schema"
)

// Snapshot writes a consistent copy of the database to dest, a new file,
// while writes go on. VACUUM INTO reads one WAL snapshot on a connection of
// its own, so the writer never waits, and writes a compact copy with no
// free pages: nothing deleted lingers in a snapshot someone downloads.
func (s *Store) Snapshot(ctx context.Context, dest string) error {
	src, err := sql.Open("sqlite3", dsn(s.Path, false, "mode", "rw"))
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return err
	}
	// A snapshot should be one self-contained file that opens without
	// creating -wal and -shm beside it.
	copied, err := sql.Open("sqlite3", fileURL(dest, url.Values{"mode": {"rw"}}))
	if err != nil {
		return err
	}
	defer copied.Close()
	_, err = copied.ExecContext(ctx, "PRAGMA journal_mode = DELETE")
	return err
}

// DataVersion changes whenever any connection, in this process or another,
// commits a change, so an unchanged value means there is nothing new to back up.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	// PRAGMA data_version only compares within one connection: keep one.
	if s.watch == nil {
		conn, err := s.reader.Conn(ctx)
		if err != nil {
			return 0, err
		}
		s.watch = conn
	}
	var v int64
	err := s.watch.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// FileReport describes a database file CheckFile accepted.
type FileReport struct {
	SchemaVersion int
	Users         int
}

// CheckFile verifies that the file at path is a database this binary can
// start on and nothing else: PRAGMA integrity_check passes, its schema
// version is known, and its schema is exactly that version's, with no
// trigger, view, index or table of its own (a planted trigger could make
// every new account an admin). It opens the file read-only and never
// changes it.
func CheckFile(ctx context.Context, path string) (FileReport, error) {
	conn, err := sql.Open("sqlite3", fileURL(path, url.Values{"mode": {"ro"}, "immutable": {"1"}}))
	if err != nil {
		return FileReport{}, err
	}
	defer conn.Close()
	var result string
	if err := conn.QueryRowContext(ctx, "PRAGMA integrity_check(1)").Scan(&result); err != nil {
		return FileReport{}, err
	}
	if result != "ok" {
		return FileReport{}, fmt.Errorf("integrity check failed: %s", result)
	}
	version, err := checkVersion(ctx, conn)
	if err != nil {
		return FileReport{}, err
	}
	if version == 0 {
		return FileReport{}, errors.New("empty database: no spaceauth schema")
	}
	got, err := DescribeSchema(ctx, conn)
	if err != nil {
		return FileReport{}, err
	}
	want, err := knownSchema(ctx, version)
	if err != nil {
		return FileReport{}, err
	}
	if !slices.Equal(got, want) {
		return FileReport{}, fmt.Errorf("its schema is not spaceauth's schema version %d (%s)", version, firstDifference(want, got))
	}
	r := FileReport{SchemaVersion: version}
	err = conn.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&r.Users)
	return r, err
}

// knownSchema describes the schema as version left it, built in memory.
func knownSchema(ctx context.Context, version int) ([]string, error) {
	script, ok := schema.At(version)
	if !ok {
		return nil, fmt.Errorf("unknown schema version %d", version)
	}
	conn, err := sql.Open("sqlite3", "file::memory:")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1) // every connection to :memory: is a database of its own
	if _, err := conn.ExecContext(ctx, script); err != nil {
		return nil, fmt.Errorf("build schema version %d: %w", version, err)
	}
	return DescribeSchema(ctx, conn)
}

func firstDifference(want, got []string) string {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return "missing: " + w
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			return "unexpected: " + g
		}
	}
	return "differently ordered"
}

var spaces = regexp.MustCompile(`\s+`)

// normalizeSQL makes CREATE statements comparable across the ways SQLite
// stores them (ALTER TABLE rewrites the text): case and spacing only.
func normalizeSQL(s string) string {
	s = strings.ToLower(spaces.ReplaceAllString(s, " "))
	for _, p := range []string{"(", ")", ","} {
		s = strings.ReplaceAll(s, " "+p, p)
		s = strings.ReplaceAll(s, p+" ", p)
	}
	return s
}

// DescribeSchema lists every schema object with its normalised SQL, and
// for each table its columns (name, type, not null, default, primary key),
// indexes with their keys, and foreign keys: two databases with equal
// descriptions behave the same.
func DescribeSchema(ctx context.Context, conn *sql.DB) ([]string, error) {
	var out []string
	query := func(q string, args ...any) ([][]string, error) {
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		var all [][]string
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = cmp.Or(v.String, "NULL")
			}
			all = append(all, row)
		}
		return all, rows.Err()
	}
	objects, err := query("SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		return nil, err
	}
	for _, obj := range objects {
		out = append(out, obj[0]+" "+obj[1]+": "+normalizeSQL(obj[2]))
		if obj[0] != "table" {
			continue
		}
		name := obj[1]
		details := []struct{ label, query string }{
			{"column", `SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`},
			{"fk", `SELECT "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?)`},
		}
		for _, d := range details {
			rows, err := query(d.query, name)
			if err != nil {
				return nil, err
			}
			for _, row := range rows {
				out = append(out, name+" "+d.label+" "+strings.Join(row, " "))
			}
		}
		indexes, err := query(`SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name`, name)
		if err != nil {
			return nil, err
		}
		for _, idx := range indexes {
			out = append(out, name+" index "+strings.Join(idx, " "))
			keys, err := query(`SELECT seqno, name, "desc", coll, key FROM pragma_index_xinfo(?)`, idx[0])
			if err != nil {
				return nil, err
			}
			for _, k := range keys {
				out = append(out, idx[0]+" key "+strings.Join(k, " "))
			}
		}
	}
	return out, nil
}
