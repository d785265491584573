// Package casyncproto speaks casync's remote protocol, the one `casync pull`
// and `casync push` use over ssh (spec: casync-format.md §7): framing,
// messages, their validation and the HELLO compatibility check. It does
// no I/O of its own beyond the reader and writer it is given, and knows
// nothing of stores; package sshstore (the ssh:// chunk store) and the
// desync pull command build on it.
//
//   - message.go: message types, feature and chunk flags, [Message].
//   - reader.go: [Reader] reads one message at a time and validates every
//     field as casync does (size 16 … 16 MiB, exact sizes, allowed flag
//     bits, a printable NUL-terminated ABORT reason). A bad frame is a
//     *[FrameError] naming the message and its offset in the stream.
//   - writer.go: [Writer] encodes messages into a buffered writer; Flush
//     sends them.
//   - hello.go: [CheckHello], the compatibility check of two HELLOs.
//
// The protocol is symmetric: both sides send HELLO at once, then the
// client of a pull sends REQUESTs (batches of chunk IDs) and the server
// answers each ID with CHUNK or MISSING, in request order; either side
// may end with GOODBYE or ABORT.
package casyncproto
