// Package ormtest runs GORM (gorm.io/driver/mysql with its DriverName) and
// sqlx over the "seqshim-mysql" driver against MariaDB and the DynamoDB
// endpoint. It lives in the tools module so that the library's go.mod
// does not carry the ORMs.
package ormtest
