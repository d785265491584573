package storage

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/folbricht/desync/chunk"
	"github.com/folbricht/desync/storage/workpool"
)

// VerifyOptions configure [VerifyStore].
type VerifyOptions struct {
	// Concurrency is the number of chunks read and checked at the same
	// time; below 1 means one.
	Concurrency int
	// Repair deletes the invalid chunks (the store must be a [Remover])
	// and the misplaced chunk files.
	Repair bool
	// Problem, if set, is called for each invalid chunk and misplaced
	// chunk file, before it is deleted, one call at a time.
	Problem func(VerifyProblem)
}

// VerifyProblem is an invalid chunk or a misplaced chunk file.
type VerifyProblem struct {
	// ID is the chunk's ID; for a misplaced file whose name is not a
	// chunk ID (a stray "abcd.cacnk"), it is zero.
	ID chunk.ID
	// Name is the misplaced file's name relative to the store, with
	// slashes ("abcd/1234….cacnk"); empty for an invalid chunk.
	Name string
	// Err says what is wrong, naming the chunk and the store: a
	// *chunk.InvalidError or a *MisplacedError.
	Err error
}

// VerifyReport counts what [VerifyStore] found and did.
type VerifyReport struct {
	Checked   int // chunks listed and read, plus misplaced chunk files found
	Invalid   int // chunks that do not decode or do not hash to their ID
	Misplaced int // chunk files outside the directory of their first 4 hex digits
	Removed   int // invalid chunks and misplaced files deleted (with Repair)
}

// MisplacedError is a chunk file that is not where the store's layout puts
// it, so that no read finds it ([MisplacedLister]).
type MisplacedError struct {
	Store string // the store, as its String method names it
	Name  string // the file, relative to the store
}

func (e *MisplacedError) Error() string {
	return fmt.Sprintf("misplaced chunk file %s in store %s: its directory is not the first 4 digits of its name", e.Name, e.Store)
}

// VerifyStore checks every chunk of s: it lists them ([Lister]) and reads
// each with s.GetChunk, o.Concurrency at a time, which decodes it and checks
// that it hashes to its ID (unless the store was opened with SkipVerify).
// A chunk that does not is an invalid chunk; a store that is a
// [MisplacedLister] is also asked for chunk files that no read finds. Each
// problem goes to o.Problem, misplaced files first, and with o.Repair is
// then deleted.
//
// Only what keeps it from checking is an error: a store that cannot list
// (or, to repair, delete) chunks, a failed listing, read or delete (such as
// a chunk missing between listing and reading), a cancelled ctx. Invalid
// and misplaced chunks are counted in the report, which is filled in as
// far as the check went. A store that does not exist reads as empty:
// callers that want it to be an error call [CheckExists] first.
func VerifyStore(ctx context.Context, s chunk.Store, o VerifyOptions) (VerifyReport, error) {
	var r VerifyReport
	lister, ok := As[Lister](s)
	if !ok {
		return r, fmt.Errorf("verify: store %s cannot list its chunks", s)
	}
	remover, canRemove := As[Remover](s)
	if o.Repair && !canRemove {
		return r, fmt.Errorf("verify: store %s cannot delete chunks", s)
	}
	var mu sync.Mutex // problems are reported one at a time
	problem := func(p VerifyProblem) {
		if o.Problem != nil {
			mu.Lock()
			defer mu.Unlock()
			o.Problem(p)
		}
	}

	// Misplaced files first: they are found by name, not read.
	if ml, ok := As[MisplacedLister](s); ok {
		var names []string
		for name, err := range ml.ListMisplaced(ctx) {
			if err != nil {
				return r, fmt.Errorf("verify: %w", err)
			}
			names = append(names, name)
		}
		r.Misplaced = len(names)
		r.Checked += len(names)
		for _, name := range names {
			problem(VerifyProblem{ID: misplacedID(name), Name: name, Err: &MisplacedError{Store: fmt.Sprint(s), Name: name}})
			if o.Repair {
				if err := ml.RemoveMisplaced(ctx, name); err != nil {
					return r, fmt.Errorf("verify: %w", err)
				}
				r.Removed++
			}
		}
	}

	// Then every chunk, read as the listing yields it.
	var listed int // counted by the calling goroutine, which reads ids
	var invalid, removed atomic.Int64
	var listErr error
	ids := func(yield func(chunk.ID) bool) {
		for id, err := range lister.ListChunks(ctx) {
			if err != nil {
				listErr = fmt.Errorf("verify: %w", err)
				return
			}
			listed++
			if !yield(id) {
				return
			}
		}
	}
	err := workpool.Run(ctx, o.Concurrency, ids, func(ctx context.Context, id chunk.ID) error {
		_, err := s.GetChunk(ctx, id)
		var inv *chunk.InvalidError
		if err == nil || !errors.As(err, &inv) {
			return err
		}
		invalid.Add(1)
		problem(VerifyProblem{ID: id, Err: err})
		if o.Repair {
			if err := remover.RemoveChunk(ctx, id); err != nil {
				return err
			}
			removed.Add(1)
		}
		return nil
	})
	r.Checked += listed
	r.Invalid = int(invalid.Load())
	r.Removed += int(removed.Load())
	if err != nil {
		return r, fmt.Errorf("verify %s: %w", s, err)
	}
	return r, listErr
}

// misplacedID is the chunk ID a misplaced file is named after, or zero.
func misplacedID(name string) chunk.ID {
	base, _, _ := strings.Cut(path.Base(name), ".")
	id, err := chunk.ParseID(base)
	if err != nil {
		return chunk.ID{}
	}
	return id
}
