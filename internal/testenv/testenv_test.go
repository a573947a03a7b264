package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestHostPort(t *testing.T) {
	for _, c := range []struct{ in, def, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "5432", "127.0.0.1:5432"},
		{"postgres://db/test", "5432", "db:5432"},
		{"http://127.0.0.1:8000", "80", "127.0.0.1:8000"},
		{"host=/tmp dbname=test", "5432", ""},
	} {
		if got := hostPort(c.in, c.def); got != c.want {
			t.Errorf("hostPort(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTCPAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"root@tcp(127.0.0.1:3306)/test", "127.0.0.1:3306"},
		{"u:p@tcp(db)/test?parseTime=true", "db:3306"},
		{"root@unix(/run/mysqld/mysqld.sock)/test", ""},
		{"root@tcp()/test", ""},
	} {
		if got := tcpAddr(c.in); got != c.want {
			t.Errorf("tcpAddr(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMariaDBDSN(t *testing.T) {
	if MariaDBDSN(t) == "" {
		t.Fatal("empty MARIADB_DSN")
	}
}

func TestDatabaseURL(t *testing.T) {
	if DatabaseURL(t) == "" {
		t.Fatal("empty DATABASE_URL")
	}
}

// TestAWSConfig checks that the configuration reaches the endpoint through
// the standard chain.
func TestAWSConfig(t *testing.T) {
	cfg := AWSConfig(t)
	_, err := dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}
