package dynamo_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/faultproxy"
	"github.com/seqshim/seqshim/internal/testenv"
)

// proxy is a fault proxy in front of the DynamoDB endpoint that can lose
// replies: it forwards a request, lets DynamoDB apply it, reads the reply
// and drops it, closing the client's connection with a reset. The SDK
// sees a broken connection and retries.
type proxy struct {
	*faultproxy.Proxy
}

func startProxy(t testing.TB) *proxy {
	t.Helper()
	return &proxy{testenv.DynamoProxy(t)}
}

// dropNth drops the reply of the k-th request from now (1 is the next one).
func (p *proxy) dropNth(ks ...int64) { p.LoseNth(ks...) }

// dropNext drops the next reply.
func (p *proxy) dropNext() { p.dropNth(1) }

func (p *proxy) setRate(r float64) { p.Set(faultproxy.Fault{LoseRate: r}) }

// dropped is the number of replies dropped.
func (p *proxy) dropped() int64 { return p.Lost() }

// option points a store's client at the proxy.
func (p *proxy) option() storeOpts {
	return func(o *dynamo.Options) {
		o.ClientOptions = append(o.ClientOptions, func(do *dynamodb.Options) {
			do.BaseEndpoint = aws.String(p.URL())
		})
	}
}
