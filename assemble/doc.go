// Package assemble turns files into indexes plus stored chunks and back.
//
//   - [Make] reads its input once: the calling goroutine reads fixed-size
//     blocks and cuts them with the chunker; workers hash each chunk once
//     (a worker takes up to 8 waiting chunks and hashes them together,
//     chunk.Digest.SumEach), and compress and store only chunks the store
//     lacks (a chunk seen among the last 16384 distinct ones is not looked
//     up again; an older repeat costs a HasChunk). Memory is four 2 MiB
//     blocks (larger when the max chunk size is above 1 MiB) and up to four
//     pages of 4096 index entries: with MakeOptions.IndexTo the index is
//     written as it is made, so memory does not grow with the input (the
//     CLI writes it to a temporary file that is renamed into place).
//     Without IndexTo the index is returned, 48 bytes per chunk;
//     CountUnique adds about 10 bytes per distinct chunk.
//     The index is byte-identical to casync make's.
//   - [ExtractFile] plans, then executes. The plan gives every chunk of
//     the output one source: a hole (the all-zero chunk of the index's max
//     size is never fetched or written), the output itself (in place: a
//     chunk already at its offset stays), a [Seed] (the longest run of
//     chunks a seed holds in order; of equally long runs the one whose
//     alignment allows cloning), or the store (each distinct chunk fetched
//     once per 16384 index chunks and written at every offset it occurs
//     there, so repeats cost one fetch). The plan is made and run a window
//     of 16384 chunks at a time, so its memory is bounded; [ExtractStream]
//     also reads the index a window at a time (no seeds, not in place), so
//     that nothing grows with the index. Workers execute the plan in
//     parallel with bounded memory (1 MiB pieces of seed runs, one chunk per
//     fetch). Seeds are files or block
//     devices with an index, or without one (chunked on the fly with the
//     index's sizes), or, with an index, data that is only a reader
//     (Seed.Data: the archive an earlier tree encodes to, for untar),
//     copied and verified but never cloned. Seed data is hashed once: as it is copied, or, for a
//     seed chunked by this run, while it is chunked (a change to that file
//     during the run is caught by its size and times, and what came from it
//     is then verified in the output). On Linux, whole blocks of seed runs
//     aligned alike in seed and output are cloned with FICLONERANGE (Btrfs,
//     XFS) and the cloned data read back from the output and verified;
//     where cloning fails, data is copied. A chunk of seed data taken for
//     the output that does not match its ID fails the run with a
//     [*SeedError] or, per [InvalidSeedAction], the seed is dropped (its
//     chunks come from the store); a seed that differs from its index only
//     where the output needs nothing of it serves as usual. With
//     InvalidSeedRegenerate the seeds' needed chunks are checked first and
//     a seed that does not match is chunked again, in memory (no file is
//     ever written but the output).
//     Without InPlace the output is a sparse temporary file next to the
//     target, synced and renamed over it only when complete (the directory
//     is synced after), so a failure or a cancelled context leaves the output
//     as it was (NoSync skips the syncs, as casync does). A temporary file
//     that a killed extraction of the same output left is removed first
//     (storage.WriteFileAtomic). With InPlace (files and block devices) the output is
//     updated where it is; that is not atomic. [ExtractWriter] streams in
//     order to a writer (stdout) with bounded read-ahead, without seeds.
//     Extraction's workers declare themselves (chunk.HashWorkers), so their
//     SHA-512/256 verification is batched on machines with fewer cores.
//   - [VerifyIndex] checks a file against an index and lists the chunks that
//     differ ([MismatchError]).
//
// Required inputs are checked: a nil index is [ErrNoIndex]; a nil Store
// fails with [ErrNoStore] (naming the chunk) where a chunk is needed from
// it, so an extraction served wholly by seeds needs none.
//
// Where things live:
//
//	make.go         Make and the maker type: read and cut (read, nextSlot),
//	                workers (startWorkers, work), index pages (collectPages),
//	                drain, finish
//	makeworker.go   what Make's workers share: naming a group of chunks,
//	                storing the new ones, the recent IDs and the counts
//	extract_api.go  ExtractOptions, ExtractStats, Progress, ExtractFile and
//	                ExtractStream
//	replace.go      the temporary file renamed over the output
//	inplace.go      in-place setup (file or block device) and the check of
//	                the chunks the output already holds
//	plan.go         the plan as a value: steps (store, repeat, seed, self,
//	                zero) with their offsets, lengths and chunk IDs; the
//	                planner only decides (TestPlan inspects its steps)
//	execute.go      running a plan: steps to tasks, the workers, fetching,
//	                seed copies and clones, verification, the counts and
//	                progress
//	extract.go      ExtractWriter and the shared fetch
//	reader.go       Reader: an index's stream as io.Reader/ReaderAt/Seeker
//	seed.go         seeds: opening, chunking, checking, SeedIndex
//	seedstore.go    the store view ExtractWriter reads seeds through
//	chop.go         Chop: store an index's chunks from its file
//	verify.go       VerifyIndex
//	errors.go       ErrNoStore, ErrNoIndex
//	fs_*.go         cloning, hole punching and writeback per platform
//
// The package has no mutable package-level state. (The SHA-512/256
// batching it relies on, chunk.HashWorkers, keeps a process-wide hashing
// goroutine that runs only while workers are declared; chunk's
// internal/sha512x4 says why it is process-wide.)
package assemble
