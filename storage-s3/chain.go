package s3store

import (
	"sync/atomic"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

// chainOnce is minio-go's credentials chain, looked up once when it finds
// nothing. The plain chain reports itself expired for as long as no
// provider has keys, so every request would walk it again, IAM included:
// a request to the metadata address that, off the cloud, may wait for its
// timeout. A store without credentials (a public bucket) goes unsigned
// from the first request on; keys found are refreshed as their provider
// says.
type chainOnce struct {
	chain *credentials.Chain
	anon  atomic.Bool
}

func newChainOnce(providers ...credentials.Provider) *credentials.Credentials {
	return credentials.New(&chainOnce{chain: &credentials.Chain{Providers: providers}})
}

func (c *chainOnce) RetrieveWithCredContext(cc *credentials.CredContext) (credentials.Value, error) {
	v, err := c.chain.RetrieveWithCredContext(cc)
	c.anon.Store(err == nil && v.SignerType.IsAnonymous())
	return v, err
}

func (c *chainOnce) Retrieve() (credentials.Value, error) {
	return c.RetrieveWithCredContext(nil)
}

func (c *chainOnce) IsExpired() bool {
	return !c.anon.Load() && c.chain.IsExpired()
}
