package ocistore

import (
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// The media and artifact types of a chunk artifact, as the original
// desync writes them.
const (
	ArtifactType   = "application/vnd.desync.chunk.v1"
	ManifestType   = "application/vnd.oci.image.manifest.v1+json"
	EmptyType      = "application/vnd.oci.empty.v1+json"
	LayerType      = "application/octet-stream"
	titleAnnotated = "org.opencontainers.image.title"
)

// emptyConfig is the config blob of every chunk artifact, "{}".
var emptyConfig = []byte("{}")

// descriptor is an OCI content descriptor with the fields (and the
// order) a chunk manifest has.
type descriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
}

// manifest is a chunk artifact's manifest. Marshalled, its fields come in
// the order the original desync writes them, so that the bytes (and the
// manifest's digest) are the same for the same chunk.
type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// chunkManifest returns the manifest of the chunk blob layer tagged tag,
// as compact JSON.
func chunkManifest(layer descriptor, tag string) []byte {
	m := manifest{
		SchemaVersion: 2,
		MediaType:     ManifestType,
		ArtifactType:  ArtifactType,
		Config:        descriptor{MediaType: EmptyType, Digest: digest.FromBytes(emptyConfig), Size: int64(len(emptyConfig))},
		Layers:        []descriptor{layer},
		Annotations:   map[string]string{titleAnnotated: tag},
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings and numbers only
	}
	return b
}

// parseChunkManifest reads a manifest and returns its one layer, or an
// error matching errNotChunk when it is not a desync chunk artifact.
func parseChunkManifest(tag string, b []byte) (manifest, descriptor, error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return m, descriptor{}, fmt.Errorf("tag %s: manifest: %w", tag, err)
	}
	if m.ArtifactType != ArtifactType {
		return m, descriptor{}, &notChunkError{Tag: tag, Why: fmt.Sprintf("artifact type %q, not %s", m.ArtifactType, ArtifactType)}
	}
	if len(m.Layers) != 1 {
		return m, descriptor{}, &notChunkError{Tag: tag, Why: fmt.Sprintf("%d layers, want 1", len(m.Layers))}
	}
	l := m.Layers[0]
	if err := l.Digest.Validate(); err != nil || l.Size < 0 {
		return m, descriptor{}, &notChunkError{Tag: tag, Why: fmt.Sprintf("bad layer descriptor %s (%d bytes)", l.Digest, l.Size)}
	}
	return m, l, nil
}

// notChunkError: a tag names something other than a desync chunk
// artifact. Permanent: asking again gets the same artifact.
type notChunkError struct {
	Tag, Why string
}

func (e *notChunkError) Error() string {
	return fmt.Sprintf("tag %s is not a desync chunk artifact: %s", e.Tag, e.Why)
}
