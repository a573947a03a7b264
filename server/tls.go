package server

import (
	"crypto/tls"
	"fmt"

	"github.com/seqshim/seqshim/server/internal/wire"
)

// ServerTLS returns the TLS configuration of a server with the given
// certificate and key; with clientCA, clients must present a certificate
// signed by it (mutual TLS).
func ServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("seqshim serve: certificate: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCA != "" {
		pool, err := wire.LoadCertPool(clientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
