package casyncproto

import (
	"fmt"
	"strings"
)

// IncompatibleError is a failed HELLO compatibility check (casync's
// EBADE): one side wants what the other does not offer.
type IncompatibleError struct {
	Local, Remote uint64
	Why           string
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("casync protocol: incompatible peer (our features %s, its %s): %s",
		FeatureString(e.Local), FeatureString(e.Remote), e.Why)
}

// wants pairs each operation bit with the service bit the other side
// must offer for it.
var wants = []struct {
	op, service uint64
	name        string
}{
	{PullChunks, ReadableStore, "pulling chunks needs a readable store"},
	{PullIndex, ReadableIndex, "pulling an index needs a readable index"},
	{PullArchive, ReadableArchive, "pulling an archive needs a readable archive"},
	{PushChunks, WritableStore, "pushing chunks needs a writable store"},
	{PushIndex, WritableIndex, "pushing an index needs a writable index"},
	{PushArchive, WritableArchive, "pushing an archive needs a writable archive"},
}

const operations = PullChunks | PullIndex | PullArchive | PushChunks | PushIndex | PushIndexChunks | PushArchive

// CheckHello is casync's compatibility check of our feature flags against
// the peer's: every operation one side wants needs the matching service
// of the other, at least one side wants an operation, and
// PUSH_INDEX_CHUNKS goes with PUSH_INDEX and PUSH_CHUNKS.
func CheckHello(local, remote uint64) error {
	fail := func(why string) error { return &IncompatibleError{Local: local, Remote: remote, Why: why} }
	if err := checkFeatures(remote); err != nil {
		return fail(err.Error())
	}
	for _, pair := range [][2]uint64{{local, remote}, {remote, local}} {
		wanter, offerer := pair[0], pair[1]
		for _, w := range wants {
			if wanter&w.op != 0 && offerer&w.service == 0 {
				return fail(w.name)
			}
		}
		if wanter&PushIndexChunks != 0 && wanter&(PushIndex|PushChunks) != PushIndex|PushChunks {
			return fail("PUSH_INDEX_CHUNKS needs PUSH_INDEX and PUSH_CHUNKS")
		}
	}
	if (local|remote)&operations == 0 {
		return fail("neither side wants anything")
	}
	return nil
}

var featureNames = []string{
	"READABLE_STORE", "WRITABLE_STORE", "READABLE_INDEX", "WRITABLE_INDEX",
	"READABLE_ARCHIVE", "WRITABLE_ARCHIVE", "PULL_CHUNKS", "PULL_INDEX",
	"PULL_ARCHIVE", "PUSH_CHUNKS", "PUSH_INDEX", "PUSH_INDEX_CHUNKS", "PUSH_ARCHIVE",
}

// FeatureString names the bits of feature flags f ("READABLE_STORE|…").
func FeatureString(f uint64) string {
	var names []string
	for i, n := range featureNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := f &^ FeatureMask; rest != 0 {
		names = append(names, fmt.Sprintf("%#x", rest))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}
