package main

import (
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/faultproxy"
	"github.com/seqshim/seqshim/seqcache"
)

// A slow store for the benchmark: with -store-latency, the contenders
// reach DynamoDB through a loopback proxy (internal/faultproxy) that adds
// the latency to every request, as a distant region would. The benchmark's
// own setup and cleanup go to the endpoint directly.

// endpointEnv names the DynamoDB endpoint for the AWS SDK's standard chain.
const endpointEnv = "AWS_ENDPOINT_URL_DYNAMODB"

// checkStoreLatency checks -store-latency: not negative, below the
// cache's attempt timeout (a store slower than that is a down store, whose
// figures are the fault suite's business), and with a plain-HTTP endpoint
// to put the proxy in front of.
func checkStoreLatency(d time.Duration) error {
	switch {
	case d == 0:
		return nil
	case d < 0 || d >= seqcache.DefaultAttemptTimeout:
		return fmt.Errorf("%w: -store-latency %v: want from 0 to below %v (seqshim.attempt_timeout: a slower store is a down store)",
			errUsage, d, seqcache.DefaultAttemptTimeout)
	}
	if _, err := proxyTarget(); err != nil {
		return fmt.Errorf("%w: -store-latency: %w", errUsage, err)
	}
	return nil
}

// proxyTarget is the host:port of the DynamoDB endpoint, which must be a
// local plain-HTTP one (the proxy relays HTTP/1.1, not TLS).
func proxyTarget() (string, error) {
	e := os.Getenv(endpointEnv)
	u, err := url.Parse(e)
	if e == "" || err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("needs %s set to a plain-HTTP endpoint such as http://127.0.0.1:8000, not %q", endpointEnv, e)
	}
	return u.Host, nil
}

// startLatencyProxy starts a proxy to the DynamoDB endpoint that delays
// every request by d.
func startLatencyProxy(d time.Duration) (*faultproxy.Proxy, error) {
	target, err := proxyTarget()
	if err != nil {
		return nil, err
	}
	p, err := faultproxy.Start(target)
	if err != nil {
		return nil, fmt.Errorf("starting the latency proxy: %w", err)
	}
	p.Set(faultproxy.Fault{Latency: d})
	return p, nil
}

// viaProxy points a dynamo store's client at the proxy.
func viaProxy(p *faultproxy.Proxy) func(*dynamo.Options) {
	return func(o *dynamo.Options) {
		o.ClientOptions = append(o.ClientOptions, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL()) })
	}
}

// withEndpoint runs open with the DynamoDB endpoint of the standard chain
// set to endpoint, and restores it after. The seqshim driver opens its
// store from the standard chain when a sql.DB is opened, and the client
// keeps the endpoint it was built with: this is how its store is put
// behind the proxy without a setting the library would only have for a
// benchmark.
func withEndpoint(endpoint string, open func() error) error {
	old, had := os.LookupEnv(endpointEnv)
	if err := os.Setenv(endpointEnv, endpoint); err != nil {
		return err
	}
	defer func() {
		if had {
			os.Setenv(endpointEnv, old)
		} else {
			os.Unsetenv(endpointEnv)
		}
	}()
	return open()
}
