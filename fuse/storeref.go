package fuse

import (
	"sync"

	"github.com/folbricht/desync/chunk"
)

// storeRef is the store fetches use, replaceable while they run: a
// replaced store is closed once the fetches that took it have returned.
type storeRef struct {
	mu  sync.Mutex
	cur *heldStore
}

// heldStore is a store and the count of fetches using it.
type heldStore struct {
	s       chunk.Store
	users   int
	retired bool // replaced: close when users drops to 0
}

func newStoreRef(s chunk.Store) *storeRef {
	r := &storeRef{}
	if s != nil {
		r.cur = &heldStore{s: s}
	}
	return r
}

// acquire returns the current store (nil if none) and the function that
// gives it back.
func (r *storeRef) acquire() (chunk.Store, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.cur
	if h == nil {
		return nil, func() {}
	}
	h.users++
	return h.s, func() {
		r.mu.Lock()
		h.users--
		closeIt := h.retired && h.users == 0
		r.mu.Unlock()
		if closeIt {
			h.s.Close()
		}
	}
}

// set makes s the current store and retires the previous one.
func (r *storeRef) set(s chunk.Store) {
	r.mu.Lock()
	old := r.cur
	r.cur = &heldStore{s: s}
	closeIt := false
	if old != nil {
		old.retired = true
		closeIt = old.users == 0
	}
	r.mu.Unlock()
	if closeIt {
		old.s.Close()
	}
}

// close closes the current store; fetches find none from then on.
func (r *storeRef) close() error {
	r.mu.Lock()
	h := r.cur
	r.cur = nil
	r.mu.Unlock()
	if h == nil {
		return nil
	}
	return h.s.Close()
}
