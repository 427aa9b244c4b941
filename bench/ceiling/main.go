// Command ceiling serves the two reference points the benchmark compares
// spaceauth against, on the same machine: "plain", a minimal net/http handler
// returning a fixed User-shaped JSON body, and "select", which also does one
// primary-key SELECT through ncruces/go-sqlite3 per request.
package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"log"
	"math/rand/v2"
	"net/http"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver"
)

type user struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func main() {
	mode := flag.String("mode", "plain", "plain or select")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	dbPath := flag.String("db", "", "seeded spaceauth database (select mode)")
	flag.Parse()

	fixed := user{ID: "019ca945-0a00-7000-8000-000000000000", Email: "seed0@bench.example", Role: "user", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	handler := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(fixed)
	}
	if *mode == "select" {
		conn, err := sql.Open("sqlite3", "file:"+*dbPath+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_timefmt=2006-01-02T15:04:05.000")
		if err != nil {
			log.Fatal(err)
		}
		conn.SetMaxOpenConns(8)
		conn.SetMaxIdleConns(8)
		var ids []string
		rows, err := conn.Query("SELECT id FROM users")
		if err != nil {
			log.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		stmt, err := conn.Prepare("SELECT id, email, name, role, disabled, created_at, updated_at FROM users WHERE id = ?")
		if err != nil {
			log.Fatal(err)
		}
		handler = func(w http.ResponseWriter, r *http.Request) {
			var u user
			err := stmt.QueryRowContext(r.Context(), ids[rand.IntN(len(ids))]).Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Disabled, &u.CreatedAt, &u.UpdatedAt)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(u)
		}
	}
	srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(handler), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
