// Package storagetest holds the conformance suite every chunk store must pass
// and fault-injecting stores for testing the code that combines stores
// (routers, failover groups, caches, retries, in-flight dedup). It is for
// tests only; it imports nothing but the standard library, chunk, caindex
// and storage.
//
// Besides [Run] (below) there are:
//
//   - [RunIndex] (index.go): the index store suite: a missing index is
//     fs.ErrNotExist, a failed write keeps the old index, names that escape
//     the store are refused, a copy is byte-exact.
//   - [RunUnreachable] (unreachable.go): a store whose bucket or host does
//     not exist fails permanently (not retried: one backend call through a
//     Retry of five attempts), not as a missing chunk, naming the store.
//   - [RunOpen] (open.go): a backend's registration: its scheme is in the
//     registry, an unknown scheme's error lists the registry's schemes, and
//     a secret (a URL password, a credential from Options.Credentials)
//     never shows in String(), in error messages or in printed options.
//   - [RunBenchmarks] (bench.go): Get and Store of 64 KiB chunks, with
//     throughput (b.SetBytes) and allocations per chunk.
//   - [MemDriver] (memdriver.go): an in-memory storage.ObjectDriver with
//     fault injection ([Fault]: fail the next n calls of some operations as
//     transient, permanent, missing or unclassified, or return corrupt
//     bytes), and [NewMissingBucket]. Through storage.ObjectStore it passes
//     Run, RunIndex (storage.ObjectIndexStore) and RunUnreachable: the
//     shared code alone makes a conforming store.
//
// # The conformance suite
//
// A store type's test calls [Run] with a [Harness]:
//
//	func TestMyStoreConformance(t *testing.T) {
//		storagetest.Run(t, storagetest.Harness{
//			New:       func(t *testing.T) chunk.Store { return newMyStore(t) }, // fresh and empty
//			Digest:    chunk.SHA512_256,                                       // the zero value
//			Converter: zstd,                                                   // the backend's stored form
//			Corrupt:   func(t *testing.T, s chunk.Store, id chunk.ID, b []byte) { /* write b raw under id */ },
//		})
//	}
//
// storage/local_conformance_test.go is the model. Subtests that need a
// capability the store lacks (chunk.WriteStore, chunk.PruneStore,
// storage.Lister, storage.Remover) or a Harness field that is nil are skipped
// with a message saying so; a chunk.Flusher is flushed where it matters, but
// every store must see its own writes before a flush. The data is
// deterministic (seeded ChaCha8), and no subtest depends on timing.
//
// # Stores that are not written to directly
//
// A store that reads what others write (a router, a failover group, a
// cache: not chunk.WriteStores; or a wrapper whose StoreChunk reaches a
// read-only store) sets Harness.Writer, which returns the store the suite
// writes into so that the store under test serves the chunks: for a router
// its last member (every read first finds the chunk missing from the
// others), for a failover group a writer to every member (mirrors), for a
// cache the store behind it (reads take the cache-miss path). Then:
//
//   - every StoreChunk goes to the Writer's store and every GetChunk and
//     HasChunk to the store under test, so the write subtests (RoundTrip,
//     CallerReusesBuffer, StoredForm, StoreExisting, ManyChunks, WrongID,
//     ConcurrentWriters, Close) check that what was written is read back
//     through it, complete, missing or invalid as the backend has it;
//   - Flush goes to the Writer's store, then to the store under test if it
//     is a chunk.Flusher; the store under test must see the chunks before;
//   - Canceled checks GetChunk and HasChunk only: the Writer's store is the
//     harness's, not under test;
//   - Corrupt must damage every copy a read can reach (each member of a
//     failover group: a group that reads a good copy from another member
//     when one is bad does its job; the store behind a cache, which a fresh
//     cache has not read yet);
//   - Prune, PruneCanceled, List and Remove run only if the store under test
//     itself has the capability. The composition types do not (storage.As
//     finds the backend's, which runs the suite on its own), so they skip
//     them.
//
// storage/compose_conformance_test.go runs the suite on every composition
// type that way.
//
// The subtests, and what each requires:
//
//   - RoundTrip: chunks of 1 byte to 256 KiB, random and compressible, are
//     missing before StoreChunk and readable (same content, HasChunk true)
//     right after it, before and after Flush.
//   - CallerReusesBuffer: StoreChunk keeps no reference to the caller's data.
//   - StoredForm: chunks handed over in the backend's stored form
//     (chunk.NewStored) round-trip too.
//   - Missing: GetChunk of an absent chunk fails with an error matching
//     chunk.ErrMissing (and not *chunk.InvalidError) whose message holds the
//     chunk ID and the store's String (a composition's own, not only a
//     member's); HasChunk says false, nil.
//   - StoreExisting: storing a chunk again (same Chunk, a copy, the stored
//     form, before and after Flush) is no error and changes nothing; a
//     Lister lists it once.
//   - ManyChunks: 300 chunks, more than a store is likely to batch.
//   - Corrupt (needs Harness.Corrupt and Converter): bytes put under a
//     chunk's name in the backend (other valid content, garbage, the real
//     content truncated, with trailing bytes or with a flipped bit, an empty
//     object) are reported by GetChunk as a *chunk.InvalidError naming the
//     chunk and a store, with Sum set to the digest of what was read when it
//     decoded. An empty object is invalid, not missing: no chunk is empty
//     (Local reports it as an *chunk.InvalidError). With SkipVerify, content
//     that decodes may be returned instead, but must be what was put there.
//   - WrongID (not with SkipVerify): a chunk whose content does not match its
//     ID (plain, stored form, undecodable stored form) is either refused by
//     StoreChunk or reported as a *chunk.InvalidError on every read, before
//     and after Flush; it is never returned as valid.
//   - ConcurrentWriters: 16 goroutines store one chunk (sharing the *Chunk
//     or not) while 4 store other chunks and 4 read the first; no error,
//     readers see the chunk missing or whole, and afterwards every chunk
//     reads back and a Lister lists each exactly once.
//   - Canceled: GetChunk, HasChunk, StoreChunk (not with Harness.Writer),
//     ListChunks and RemoveChunk with a cancelled context fail with an error
//     matching context.Canceled, even where an inner store fails for another
//     reason first, and the store still works afterwards.
//   - Prune, PruneCanceled: pruning an empty store is no error; of six
//     chunks (some flushed, some maybe not) the two kept remain readable,
//     the four others are missing, a Lister lists exactly the two. A Prune
//     with a cancelled context fails with context.Canceled and removes no
//     chunk the keep function keeps.
//   - List: an empty store lists nothing; five stored chunks (flushed or
//     not) are listed exactly once each; stopping the iteration early works.
//   - Remove: removing an absent chunk, or one twice, is no error; a removed
//     chunk (flushed or still held back) is missing, stays missing after
//     Flush, is not listed, and can be stored again.
//   - Close: Close after a write returns nil.
//
// Harness.Check runs after each subtest, once the store is closed, to check
// what the interfaces cannot show (for Local: no temporary files left).
//
// # Fault-injecting stores
//
// Each wraps a chunk.Store and is itself a chunk.WriteStore: StoreChunk is
// forwarded, or fails with an error matching errors.ErrUnsupported if the
// wrapped store does not accept chunks. [ReadOnly] hides StoreChunk (and
// everything else but chunk.Store) where a test needs a store that is not a
// WriteStore. Every wrapper takes the wrapped store's String, so errors name
// the store as the backend itself would, forwards Close, forwards Flush to a
// chunk.Flusher (else does nothing), and has Unwrap, so storage.As can look
// through it. ListChunks, RemoveChunk and Prune are not forwarded.
//
//   - [ErrTransient]: the error the wrappers inject by default; it has a
//     method Transient() bool returning true, as backends mark what they
//     classify as transient, so retry logic repeats it. [ErrUnclassified]
//     is an error nobody classified, which retry logic must not repeat.
//   - [NewTransient]: the first n calls of the selected operations ([OpGet],
//     [OpHas], [OpStore]; GetChunk by default) fail with an error wrapping
//     ErrTransient that names the store, the call and the chunk; later calls
//     pass through. Calls counts the selected calls. For "fails twice, then
//     works": retries and failover.
//   - [NewDown]: every GetChunk, HasChunk, StoreChunk and Flush returns one
//     error (by default one wrapping ErrTransient) until SetErr(nil) brings
//     the store back. For failover and "a store is down" paths.
//   - [NewBitFlip], [NewShortRead]: GetChunk reads the chunk from the wrapped
//     store, takes its stored form ([CorruptOptions].Converter), flips one
//     bit or cuts it to half, then decodes and verifies it as a verifying
//     backend would; the result is the *chunk.InvalidError a real backend
//     would return, with Store set to the wrapper's String. Reads limits the
//     damage to the first reads (a repairing cache, a retry that must not
//     retry). Corrupted counts damaged reads.
//   - [NewLatency]: each GetChunk, HasChunk and StoreChunk waits a fixed
//     time first, or returns ctx.Err() if the context ends before. For
//     making calls overlap and for cancellation paths; assert outcomes, not
//     durations.
//   - [NewCounting]: counts GetChunk, HasChunk and StoreChunk calls, in total
//     ([Counting.Total]) and per chunk ([Counting.Of]), as they start. For
//     proving in-flight dedup and caching ("one fetch, one write").
//
// Wrappers nest: NewCounting(NewLatency(local, d)) counts the calls that
// reach a slow store.
package storagetest
