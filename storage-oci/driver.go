package ocistore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/folbricht/desync/storage"
)

// TagListPageSize is how many tags one page of the tag listing asks for.
const TagListPageSize = 1000

// maxManifest caps a manifest read: a chunk manifest is under 1 KiB.
const maxManifest = 64 << 10

// Driver is the OCI registry storage.ObjectDriver: the object
// "<4 hex>/<id><suffix>" is the chunk artifact tagged "<id><suffix>" in
// the store's repository (the suffix, ".cacnk" or with an encryption
// part, is whatever the store's layout names chunks with; the driver
// only drops the directory). Requests per call: Get two (manifest by tag,
// then its blob), Exists one (HEAD of the manifest), Put four (HEAD of
// the manifest, the blob's POST and PUT, the manifest's PUT; only the HEAD
// if the chunk is there), plus the empty config blob once per store; Delete two (the manifest by tag, checked to be a
// chunk artifact, then DELETE by digest); List one per 1000 tags.
type Driver struct {
	loc  Location
	repo *remote.Repository
	hc   *http.Client

	cfgMu   sync.Mutex
	cfgDone bool // the empty config blob is in the repository

	putMu   sync.Mutex
	putting map[string]*putCall // pushes in flight by tag
}

// NewDriver returns the driver of the store at loc (oci+https:// or
// oci+http://host[:port]/repository) with the options of o: timeout, N,
// TLS settings, and the credentials (see credentialFunc for the order).
// It sends nothing yet.
func NewDriver(ctx context.Context, loc *url.URL, o storage.Options) (*Driver, error) {
	l, err := ParseLocation(loc)
	if err != nil {
		return nil, err
	}
	cred, _, err := credentialFunc(ctx, loc, l, o, osGetenv)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", l, err)
	}
	hc, err := newHTTPClient(o)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", l, err)
	}
	repo := &remote.Repository{
		Client:           newAuthClient(hc, l, cred),
		Reference:        registry.Reference{Registry: l.Host, Repository: l.Repository},
		PlainHTTP:        l.PlainHTTP,
		TagListPageSize:  TagListPageSize,
		SkipReferrersGC:  true, // chunk manifests have no subject: no referrers index to keep
		MaxMetadataBytes: maxManifest,
	}
	return &Driver{loc: l, repo: repo, hc: hc, putting: map[string]*putCall{}}, nil
}

// Location returns the store's parsed location.
func (d *Driver) Location() Location { return d.loc }

// setPageSize sets the tag listing's page size (tests).
func (d *Driver) setPageSize(n int) { d.repo.TagListPageSize = n }

// Tag returns the tag of an object name: the name without its directory.
func Tag(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// fetchManifest GETs the manifest tagged tag and checks that it is a
// chunk artifact with one layer; it returns the manifest's descriptor
// and the layer.
func (d *Driver) fetchManifest(ctx context.Context, tag string) (ocispec.Descriptor, descriptor, error) {
	desc, rc, err := d.repo.FetchReference(ctx, tag)
	if err != nil {
		return desc, descriptor{}, explain(err)
	}
	defer rc.Close()
	if desc.Size > maxManifest {
		return desc, descriptor{}, &notChunkError{Tag: tag, Why: fmt.Sprintf("manifest of %d bytes", desc.Size)}
	}
	b, err := content.ReadAll(rc, desc)
	if err != nil {
		return desc, descriptor{}, fmt.Errorf("reading manifest %s: %w", tag, err)
	}
	_, layer, err := parseChunkManifest(tag, b)
	return desc, layer, err
}

// Get fetches the chunk artifact tagged with the name's tag: its manifest,
// checked, then its one blob, whose size (from the manifest) must be at
// most limit before it is asked for, and whose sha256 digest is checked
// as it is read.
func (d *Driver) Get(ctx context.Context, name string, limit int64) ([]byte, error) {
	tag := Tag(name)
	_, layer, err := d.fetchManifest(ctx, tag)
	if err != nil {
		return nil, err
	}
	if layer.Size > limit {
		return nil, fmt.Errorf("tag %s: blob of %d bytes: %w", tag, layer.Size, storage.ErrTooLarge)
	}
	target := ocispec.Descriptor{MediaType: layer.MediaType, Digest: layer.Digest, Size: layer.Size}
	rc, err := d.repo.Blobs().Fetch(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("tag %s: blob %s: %w", tag, layer.Digest, explain(err))
	}
	defer rc.Close()
	b, err := content.ReadAll(rc, target)
	if err != nil {
		return nil, fmt.Errorf("tag %s: reading blob %s: %w", tag, layer.Digest, err)
	}
	return b, nil
}

// Exists asks for the manifest tagged with the name's tag (HEAD).
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	_, err := d.repo.Resolve(ctx, Tag(name))
	if err != nil {
		if classify(err) == storage.KindMissing {
			return false, nil
		}
		return false, explain(err)
	}
	return true, nil
}

// Put pushes data as a chunk artifact tagged with the name's tag: the
// empty config blob (once per store), then, unless the tag already names
// the very manifest Put would push (HEAD of the manifest: the chunk is
// there, nothing is sent), the blob and the manifest, the same bytes the
// original desync pushes for the same blob and tag. Concurrent Puts of
// one tag in this driver share one push: the distribution registry's
// filesystem storage does not survive concurrent uploads of one blob or
// tag (it reads half-written link files).
func (d *Driver) Put(ctx context.Context, name string, data []byte) error {
	tag := Tag(name)
	d.putMu.Lock()
	if c, ok := d.putting[tag]; ok {
		d.putMu.Unlock()
		select {
		case <-c.done:
			if c.err == nil {
				return nil
			}
			// The other push failed: try this one on its own.
			return d.Put(ctx, name, data)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := &putCall{done: make(chan struct{})}
	d.putting[tag] = c
	d.putMu.Unlock()
	c.err = d.put(ctx, tag, data)
	d.putMu.Lock()
	delete(d.putting, tag)
	d.putMu.Unlock()
	close(c.done)
	return c.err
}

// putCall is a push in flight.
type putCall struct {
	done chan struct{}
	err  error
}

func (d *Driver) put(ctx context.Context, tag string, data []byte) error {
	if err := d.ensureConfig(ctx); err != nil {
		return err
	}
	layer := descriptor{MediaType: LayerType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	m := chunkManifest(layer, tag)
	md := ocispec.Descriptor{MediaType: ManifestType, Digest: digest.FromBytes(m), Size: int64(len(m))}
	have, err := d.repo.Resolve(ctx, tag)
	switch {
	case err == nil && have.Digest == md.Digest:
		return nil
	case err != nil && classify(err) != storage.KindMissing:
		return fmt.Errorf("tag %s: %w", tag, explain(err))
	}
	target := ocispec.Descriptor{MediaType: layer.MediaType, Digest: layer.Digest, Size: layer.Size}
	if err := d.repo.Blobs().Push(ctx, target, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("tag %s: pushing blob %s: %w", tag, layer.Digest, explain(err))
	}
	if err := d.repo.PushReference(ctx, md, bytes.NewReader(m), tag); err != nil {
		return fmt.Errorf("tag %s: pushing manifest: %w", tag, explain(err))
	}
	return nil
}

// pushBlob uploads a blob the repository does not have yet.
func (d *Driver) pushBlob(ctx context.Context, l descriptor, data []byte) error {
	target := ocispec.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size}
	ok, err := d.repo.Blobs().Exists(ctx, target)
	if err != nil {
		return fmt.Errorf("checking blob %s: %w", l.Digest, explain(err))
	}
	if ok {
		return nil
	}
	if err := d.repo.Blobs().Push(ctx, target, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("pushing blob %s: %w", l.Digest, explain(err))
	}
	return nil
}

// ensureConfig pushes the empty config blob unless this driver did, or
// found it, before. A failure is tried again by the next Put.
func (d *Driver) ensureConfig(ctx context.Context) error {
	d.cfgMu.Lock()
	defer d.cfgMu.Unlock()
	if d.cfgDone {
		return nil
	}
	cfg := descriptor{MediaType: EmptyType, Digest: digest.FromBytes(emptyConfig), Size: int64(len(emptyConfig))}
	if err := d.pushBlob(ctx, cfg, emptyConfig); err != nil {
		return fmt.Errorf("config blob: %w", err)
	}
	d.cfgDone = true
	return nil
}

// Delete removes the chunk artifact tagged with the name's tag: it reads
// the manifest and deletes it by digest, but only if it is a desync chunk
// artifact: an unrelated artifact under a chunk-shaped tag is left alone,
// with a *leftAloneError, which Classify calls missing (there is no chunk
// to remove), so that prune goes on. Blobs are left to the registry's garbage collection.
func (d *Driver) Delete(ctx context.Context, name string) error {
	tag := Tag(name)
	desc, _, err := d.fetchManifest(ctx, tag)
	if err != nil {
		var nc *notChunkError
		if errors.As(err, &nc) {
			return &leftAloneError{err}
		}
		return err
	}
	if err := d.repo.Manifests().Delete(ctx, desc); err != nil {
		return fmt.Errorf("tag %s: deleting manifest %s: %w", tag, desc.Digest, explain(err))
	}
	return nil
}

// List yields "<first 4 characters>/<tag>" for every tag of the
// repository whose first four characters are hex digits (what a chunk
// tag starts with) and that starts with prefix, from the paginated tag
// listing. A repository the registry does not know yet has no tags.
func (d *Driver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		stop := errors.New("stop")
		err := d.repo.Tags(ctx, "", func(tags []string) error {
			for _, t := range tags {
				if len(t) <= 4 || !isHex(t[:4]) {
					continue
				}
				name := t[:4] + "/" + t
				if !strings.HasPrefix(name, prefix) {
					continue
				}
				if !yield(name, nil) {
					return stop
				}
			}
			return nil
		})
		var resp *errcode.ErrorResponse
		switch {
		case err == nil, err == stop:
		case errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound &&
			len(resp.Errors) > 0 && resp.Errors[0].Code == errcode.ErrorCodeNameUnknown:
			// No tag was ever pushed: an empty store.
		default:
			yield("", fmt.Errorf("listing tags: %w", explain(err)))
		}
	}
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// String names the store: its location, without credentials.
func (d *Driver) String() string { return d.loc.String() }

// Close releases the idle connections.
func (d *Driver) Close() error {
	d.hc.CloseIdleConnections()
	return nil
}

var _ storage.ObjectDriver = (*Driver)(nil)
