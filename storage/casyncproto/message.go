package casyncproto

import (
	"fmt"

	"github.com/folbricht/desync/chunk"
)

// Type is a message type (the second le64 of every message).
type Type uint64

// Message types.
const (
	Hello      Type = 0x3c71d0948ca5fbee
	Index      Type = 0xb32a91dd2b3e27f8
	IndexEOF   Type = 0x4f0932f1043718f5
	Archive    Type = 0x95d6428a69eddcc5
	ArchiveEOF Type = 0x450bef663f24cbad
	Request    Type = 0x8ab427e0f89d9210
	Chunk      Type = 0x5213dd180a84bc8c
	Missing    Type = 0xd010f9fac82b7b6c
	Goodbye    Type = 0xad205dbf1a3686c3
	Abort      Type = 0xe7d9136b7efea352
)

func (t Type) String() string {
	switch t {
	case Hello:
		return "HELLO"
	case Index:
		return "INDEX"
	case IndexEOF:
		return "INDEX_EOF"
	case Archive:
		return "ARCHIVE"
	case ArchiveEOF:
		return "ARCHIVE_EOF"
	case Request:
		return "REQUEST"
	case Chunk:
		return "CHUNK"
	case Missing:
		return "MISSING"
	case Goodbye:
		return "GOODBYE"
	case Abort:
		return "ABORT"
	}
	return fmt.Sprintf("unknown type %#x", uint64(t))
}

// HELLO feature flags: the services a side offers and the operations it
// wants.
const (
	ReadableStore   uint64 = 0x1
	WritableStore   uint64 = 0x2
	ReadableIndex   uint64 = 0x4
	WritableIndex   uint64 = 0x8
	ReadableArchive uint64 = 0x10
	WritableArchive uint64 = 0x20
	PullChunks      uint64 = 0x40
	PullIndex       uint64 = 0x80
	PullArchive     uint64 = 0x100
	PushChunks      uint64 = 0x200
	PushIndex       uint64 = 0x400
	PushIndexChunks uint64 = 0x800
	PushArchive     uint64 = 0x1000

	// FeatureMask holds every defined feature bit.
	FeatureMask uint64 = 0x1fff
)

// Flags of REQUEST and CHUNK.
const (
	// HighPriority is the only REQUEST flag.
	HighPriority uint64 = 1
	// Compressed is the only CHUNK flag: the data is the chunk's .cacnk
	// form (zstd, or xz or gzip, told by magic), not the plain chunk.
	Compressed uint64 = 1
)

// Sizes.
const (
	// HeaderSize is the size of every message header (le64 size, le64 type).
	HeaderSize = 16
	// MaxMessageSize is the largest message casync accepts
	// (CA_PROTOCOL_SIZE_MAX), header included.
	MaxMessageSize = 16 << 20
	// MaxRequestIDs is how many IDs fit in one REQUEST of the size casync
	// batches to (64 KiB of IDs).
	MaxRequestIDs = 64 << 10 / 32
	// MaxFileData is the data of one INDEX or ARCHIVE message as casync
	// sends them (64 KiB).
	MaxFileData = 64 << 10
	// maxErrno bounds an ABORT's errno (less than INT32_MAX).
	maxErrno = 1<<31 - 1
)

// Message is one decoded message. Which fields are set depends on Type:
//
//   - HELLO: Flags (feature flags).
//   - INDEX, ARCHIVE: Data (a slice of the file).
//   - REQUEST: Flags, IDs (at least one).
//   - CHUNK: Flags, ID, Data (compressed or plain chunk bytes).
//   - MISSING: ID.
//   - ABORT: Errno, Reason.
//   - INDEX_EOF, ARCHIVE_EOF, GOODBYE: nothing.
//
// Data is owned by the message: the reader does not reuse it.
type Message struct {
	Type   Type
	Flags  uint64
	ID     chunk.ID
	IDs    []chunk.ID
	Data   []byte
	Errno  uint64
	Reason string
}

// String describes m in one line, as the transcripts' log.txt do.
func (m *Message) String() string {
	switch m.Type {
	case Hello:
		return fmt.Sprintf("HELLO feature_flags=%#x", m.Flags)
	case Index, Archive:
		return fmt.Sprintf("%s data=%d bytes", m.Type, len(m.Data))
	case Request:
		return fmt.Sprintf("REQUEST flags=%d ids=%d", m.Flags, len(m.IDs))
	case Chunk:
		return fmt.Sprintf("CHUNK flags=%d id=%s data=%d bytes", m.Flags, m.ID, len(m.Data))
	case Missing:
		return fmt.Sprintf("MISSING id=%s", m.ID)
	case Abort:
		return fmt.Sprintf("ABORT errno=%d reason=%q", m.Errno, m.Reason)
	}
	return m.Type.String()
}
