package assemble

import "errors"

// ErrNoStore is the error (wrapped, with the chunk and offset) of an
// operation that needs a chunk from the store, or must store chunks, when
// no store was given: ExtractOptions.Store, ReaderOptions.Store or
// ChopOptions.Store is nil. An extraction whose every chunk comes from
// seeds, from the output itself or is a hole needs no store.
var ErrNoStore = errors.New("no chunk store given (the Store option is nil)")

// ErrNoIndex is the error of a function given a nil index.
var ErrNoIndex = errors.New("no index given (nil)")
