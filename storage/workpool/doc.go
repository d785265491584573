// Package workpool runs a function over many items on a bounded number of
// goroutines, the one worker pool of desync's commands and libraries
// (verify, cache and info in the CLI, chop and extraction in assemble).
//
// What it promises:
//   - at most n calls run at the same time (n < 1 counts as 1), and never
//     more goroutines than there are items;
//   - the first error a call returns cancels the context of the calls still
//     running, no item is started after it, and it is what the pool returns
//     once every running call has returned (errors that follow it, such as
//     the context.Canceled of the other calls, are dropped);
//   - a cancelled parent context stops the pool the same way, and its cause
//     is returned;
//   - without errors, every item is passed to exactly one call.
//
// [Each] takes a slice, [Run] a sequence that is read only as workers are
// free (a listing need not be collected first), and [RunWorkers] gives each
// worker a function of its own, for state a worker reuses from item to item
// (a buffer). Results in item order are left to the caller: a call can
// write its result into a slice at the item's index, which [Each] makes
// easy by passing indices as items.
//
// It lives in the storage module because every module that needs it
// (storage itself, assemble, cli) already requires storage; it needs
// nothing beyond the standard library.
package workpool
