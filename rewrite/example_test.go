package rewrite_test

import (
	"fmt"

	"github.com/seqshim/seqshim/rewrite"
)

func ExamplePlanner_Plan() {
	p := rewrite.NewPlanner(rewrite.Options{})

	local := p.Plan(`SELECT nextval('orders_id_seq') AS id, currval('orders_id_seq')`)
	fmt.Println(local.Kind, local.Columns, local.Calls[0].Func, local.Calls[0].Seq.Key())

	bind := p.Plan(`INSERT INTO orders (id, customer_id) VALUES (nextval('orders_id_seq'), $1) RETURNING id`)
	fmt.Println(bind.Kind, bind.SQL)
	for _, c := range bind.Calls {
		fmt.Printf("$%d = %s(%s)\n", c.Param, c.Func, c.Seq.Key())
	}

	refuse := p.Plan(`UPDATE orders SET id = nextval('orders_id_seq')`)
	fmt.Println(refuse.Kind, refuse.Reason)

	pass := p.Plan(`SELECT 'nextval(''x'')' FROM orders`)
	fmt.Println(pass.Kind, pass.SQL)
	// Output:
	// Local [id currval] nextval public.orders_id_seq
	// Bind INSERT INTO orders (id, customer_id) VALUES ($2::int8, $1) RETURNING id
	// $2 = nextval(public.orders_id_seq)
	// Refuse nextval('orders_id_seq') is evaluated once per row in UPDATE; seqshim answers it once per statement: fetch the values first with SELECT nextval('orders_id_seq') (one call per row) and pass them as parameters, or use a column default
	// Pass SELECT 'nextval(''x'')' FROM orders
}

func ExampleParseName() {
	for _, s := range []string{`Orders_Id_Seq`, `Sales."Order_Seq"`, `"a.b"`} {
		n, err := rewrite.ParseName(s, "")
		fmt.Println(n.Key(), n, err)
	}
	_, err := rewrite.ParseName("16384", "")
	fmt.Println(err)
	// Output:
	// public.orders_id_seq public.orders_id_seq <nil>
	// sales.Order_Seq sales."Order_Seq" <nil>
	// public.a.b public."a.b" <nil>
	// sequence given by OID: "16384"
}
