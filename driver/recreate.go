package driver

import (
	"context"
	"log/slog"
	"time"

	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/rewrite"
)

// A managed sequence dropped and created again in PostgreSQL (by DROP and
// CREATE SEQUENCE, or with its table) keeps its sequence in the store:
// seqshim goes on with the store's values, and PostgreSQL's new sequence,
// which starts again, must not hand them out. When the CREATE runs
// through this driver, the new sequence is capped below the store's values
// as import does (stopped where it stands when it has reached them), once
// the statement, or its transaction, has committed. A CREATE run elsewhere
// is not seen: `seqshim status` reports the overlap and `seqshim import`
// caps it.

// recapTimeout bounds the capping after a transaction committed through
// database/sql, which gives Commit no context.
const recapTimeout = 10 * time.Second

// createdAgain returns the store keys of the managed sequences the plan's
// statements created that the store already has: a CREATE SEQUENCE, or the
// serial and identity sequences of a CREATE TABLE.
func (c *conn) createdAgain(ctx context.Context, p *rewrite.Plan) []string {
	if !c.c.cfg.LazyImport {
		return nil
	}
	var keys []string
	for _, f := range p.Facts {
		if f.Kind != rewrite.CatalogChange || f.Command != "CREATE" || f.Name == (rewrite.Name{}) {
			continue
		}
		switch f.Object {
		case "SEQUENCE":
			if _, key, err := c.resolveSequence(ctx, f.Name); err == nil {
				keys = append(keys, key)
			}
		case "TABLE":
			keys = append(keys, c.tableSequences(ctx, f.Name)...)
		}
	}
	out := keys[:0]
	for _, k := range keys {
		if _, err := c.c.shared.store.Get(ctx, k); err == nil {
			out = append(out, k)
		}
	}
	return out
}

// tableSequences returns the store keys of the managed sequences a
// table's columns draw from.
func (c *conn) tableSequences(ctx context.Context, name rewrite.Name) []string {
	if !name.Qualified() {
		rel, err := c.resolve(ctx, name.Name)
		if err != nil || rel.schema == "" || rel.temp {
			return nil
		}
		name.Schema = rel.schema
	}
	t, err := c.table(ctx, name)
	if err != nil {
		return nil
	}
	var keys []string
	for _, col := range t.Columns {
		if col.Seq.Qualified() && c.c.manages(col.Seq) {
			keys = append(keys, col.Seq.Key())
		}
	}
	return keys
}

// recapCreated caps the sequences created again, once committed.
func (c *conn) recapCreated(ctx context.Context) {
	for _, key := range c.created {
		c.c.recap(ctx, key)
	}
	c.created = nil
}

// recap caps the database's sequence with store key below the store's
// values, as import does; a failure is logged with the way out.
func (c *Connector) recap(ctx context.Context, key string) {
	steps, err := migrate.Import(ctx, c.importer(), c.shared.store, migrate.Options{
		Only: []string{key}, Gap: c.importGap(), Schema: c.cfg.Schema,
		Allow: c.cfg.Allow, Deny: c.cfg.Deny, Logger: slog.Default(),
	})
	if err != nil {
		slog.WarnContext(ctx, "seqshim: a sequence the store has was created again in PostgreSQL and could not be capped below the store's values; "+
			"PostgreSQL's new sequence may hand them out: run `seqshim import --only "+key+"`", "sequence", key, "err", err)
		return
	}
	for _, st := range steps {
		slog.InfoContext(ctx, "seqshim: a sequence the store has was created again in PostgreSQL; seqshim goes on with the store's values",
			"sequence", key, "action", string(st.Action), "note", st.Note)
	}
}

// lastTxEnd returns "COMMIT" or "ROLLBACK" for the last statement of the
// plan that ends a transaction, "" when none does.
func lastTxEnd(p *rewrite.Plan) string {
	end := ""
	for _, f := range p.Facts {
		if f.Kind != rewrite.Transaction {
			continue
		}
		switch f.Command {
		case "COMMIT", "COMMIT PREPARED":
			end = "COMMIT"
		case "ROLLBACK", "ROLLBACK PREPARED", "PREPARE TRANSACTION":
			end = "ROLLBACK" // a prepared transaction commits later, elsewhere
		}
	}
	return end
}
