// Package seqshimpb is the generated gRPC code of the seqshim server tier.
// Regenerate with `go generate ./server/seqshimpb` (protoc 3.21,
// protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.6.0 on PATH).
package seqshimpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative seqshim.proto
