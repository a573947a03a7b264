package driver

// The SQLSTATEs the driver reports, named as in PostgreSQL's errcodes.txt
// (in_failed_sql_transaction is codeInFailedSQLTransaction). seqcache's
// codes have the same values: a seqcache error keeps its code.
const (
	codeConnectionDoesNotExist         = "08003" // the cache is closed
	codeConnectionFailure              = "08006" // the store failed
	codeProtocolViolation              = "08P01" // bind parameters do not fit the statement
	codeFeatureNotSupported            = "0A000" // a statement seqshim cannot answer
	codeNumericValueOutOfRange         = "22003" // setval out of bounds
	codeInvalidParameterValue          = "22023" // a bad sequence definition
	codeSequenceGeneratorLimitExceeded = "2200H" // nextval past the limit without CYCLE
	codeInvalidTextRepresentation      = "22P02" // a parameter that is not a bigint or boolean
	codeInFailedSQLTransaction         = "25P02" // a statement after an error in a transaction
	codeDatatypeMismatch               = "42804" // a sequence name parameter that is not text
	codeInvalidName                    = "42602" // a sequence name that does not parse
	codeUndefinedTable                 = "42P01" // no such sequence
	codeWrongObjectType                = "42809" // a relation that is not a sequence
	codeDuplicateTable                 = "42P07" // the sequence exists
	codeObjectNotInPrerequisiteState   = "55000" // currval or lastval before nextval
	codeQueryCanceled                  = "57014" // the context was canceled
	codeInternalError                  = "XX000" // the store holds what it cannot read
)
