// Package integration holds seqshim's end-to-end tests: the driver against
// a real PostgreSQL server and a real DynamoDB-compatible endpoint, side by
// side with plain pgx. Run scripts/services.sh (make test does) to provide
// both; locally a missing service skips these tests, in CI (CI=true) it
// fails them.
package integration
