package storagetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/folbricht/desync/storage"
)

// MemDriver is an in-memory [storage.ObjectDriver] with fault injection:
// the proof that [storage.ObjectStore] alone makes a conforming chunk
// store, and a backend for tests of what sits above a driver (retries,
// error classification). Its calls map to the Ops: Get is OpGet, Exists
// OpHas, Put OpStore, Delete OpDelete, List OpList.
type MemDriver struct {
	name string

	mu      sync.Mutex
	objs    map[string][]byte
	faults  []*Fault
	calls   map[Op]int
	noStore bool // the bucket does not exist
}

// Fault is an injected failure of a [MemDriver]: the next Times calls of
// Ops fail with an error of Kind (a *MemError), or, with Corrupt, Get
// returns the object with its last byte changed.
type Fault struct {
	Ops     Op
	Times   int
	Kind    storage.ErrorKind
	Corrupt bool
}

// MemError is the error a [MemDriver] returns: for a missing object
// (KindMissing), a missing bucket (KindPermanent), or an injected fault.
// Classify reports its Kind.
type MemError struct {
	Kind storage.ErrorKind
	Op   Op
	Name string
	Msg  string
}

func (e *MemError) Error() string {
	return fmt.Sprintf("mem %s %q: %s (%s)", e.Op, e.Name, e.Msg, e.Kind)
}

// NewMemDriver returns an empty driver named name ("mem://name").
func NewMemDriver(name string) *MemDriver {
	return &MemDriver{name: name, objs: map[string][]byte{}, calls: map[Op]int{}}
}

// NewMissingBucket returns a driver whose every call fails as a store that
// does not exist does: permanently.
func NewMissingBucket(name string) *MemDriver {
	d := NewMemDriver(name)
	d.noStore = true
	return d
}

// Inject adds a fault; faults are used in the order added.
func (d *MemDriver) Inject(f Fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = append(d.faults, &f)
}

// ClearFaults drops the faults not used yet.
func (d *MemDriver) ClearFaults() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = nil
}

// Calls returns how many calls of op were made (failed ones included).
func (d *MemDriver) Calls(op Op) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[op]
}

// SetObject puts raw bytes under name, as a Corrupt harness function does.
func (d *MemDriver) SetObject(name string, b []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.objs[name] = slices.Clone(b)
}

// Object returns the bytes under name.
func (d *MemDriver) Object(name string) ([]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.objs[name]
	return slices.Clone(b), ok
}

// enter counts a call and returns the fault it meets, if any. mu is held.
func (d *MemDriver) enter(op Op, name string) (corrupt bool, err error) {
	d.calls[op]++
	if d.noStore {
		return false, &MemError{Kind: storage.KindPermanent, Op: op, Name: name, Msg: "no such bucket " + d.name}
	}
	for i, f := range d.faults {
		if f.Ops&op == 0 {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			d.faults = slices.Delete(d.faults, i, i+1)
		}
		if f.Corrupt {
			return true, nil
		}
		return false, &MemError{Kind: f.Kind, Op: op, Name: name, Msg: "injected fault"}
	}
	return false, nil
}

// Get returns a copy of the object.
func (d *MemDriver) Get(ctx context.Context, name string, limit int64) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	corrupt, err := d.enter(OpGet, name)
	if err != nil {
		return nil, err
	}
	b, ok := d.objs[name]
	if !ok {
		return nil, &MemError{Kind: storage.KindMissing, Op: OpGet, Name: name, Msg: "no such object"}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("mem %q: %w", name, storage.ErrTooLarge)
	}
	b = slices.Clone(b)
	if corrupt && len(b) > 0 {
		b[len(b)-1] ^= 0x55
	}
	return b, nil
}

// Exists reports whether the object exists.
func (d *MemDriver) Exists(ctx context.Context, name string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.enter(OpHas, name); err != nil {
		return false, err
	}
	_, ok := d.objs[name]
	return ok, nil
}

// Put stores a copy of data.
func (d *MemDriver) Put(ctx context.Context, name string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.enter(OpStore, name); err != nil {
		return err
	}
	d.objs[name] = slices.Clone(data)
	return nil
}

// Delete removes the object; a missing one is a KindMissing error.
func (d *MemDriver) Delete(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.enter(OpDelete, name); err != nil {
		return err
	}
	if _, ok := d.objs[name]; !ok {
		return &MemError{Kind: storage.KindMissing, Op: OpDelete, Name: name, Msg: "no such object"}
	}
	delete(d.objs, name)
	return nil
}

// List yields the names under prefix, sorted (from a snapshot taken when
// iteration starts).
func (d *MemDriver) List(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		d.mu.Lock()
		_, err := d.enter(OpList, prefix)
		names := slices.Sorted(maps.Keys(d.objs))
		d.mu.Unlock()
		if err != nil {
			yield("", err)
			return
		}
		for _, n := range names {
			if strings.HasPrefix(n, prefix) && !yield(n, nil) {
				return
			}
		}
	}
}

// Classify reports a *MemError's Kind; anything else is unknown.
func (d *MemDriver) Classify(err error) storage.ErrorKind {
	var me *MemError
	if errors.As(err, &me) {
		return me.Kind
	}
	return storage.KindUnknown
}

func (d *MemDriver) String() string { return "mem://" + d.name }
func (d *MemDriver) Close() error   { return nil }

var _ storage.ObjectDriver = (*MemDriver)(nil)
