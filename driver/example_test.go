package driver_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"

	_ "github.com/seqshim/seqshim/driver"
)

// The one-line change: open "seqshim" where the service opened "pgx".
// Sequence calls are answered from the cache; everything else goes to
// PostgreSQL as before.
func Example() {
	dsn := os.Getenv("DATABASE_URL") + "?seqshim.store=dynamodb://seqshim_sequences"
	db, err := sql.Open("seqshim", dsn) // was: sql.Open("pgx", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	var id int64
	err = db.QueryRowContext(ctx,
		"INSERT INTO orders (id, customer) VALUES (nextval('orders_id_seq'), $1) RETURNING id", "ada").Scan(&id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order", id)
}
