package casyncproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/folbricht/desync/chunk"
)

// readAll reads every message of b.
func readAll(t *testing.T, b []byte) []*Message {
	t.Helper()
	r := NewReader(bytes.NewReader(b))
	var ms []*Message
	for {
		m, err := r.ReadMessage()
		if err == io.EOF {
			return ms
		}
		if err != nil {
			t.Fatalf("message %d: %v", len(ms), err)
		}
		ms = append(ms, m)
	}
}

// encodeAll writes ms with a Writer.
func encodeAll(t *testing.T, ms []*Message) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, m := range ms {
		if err := w.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustID(t *testing.T, s string) chunk.ID {
	t.Helper()
	id, err := chunk.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestTranscriptPullChunks: the streams recorded between a Python client
// and the real `casync pull - - - blob.castr` decode to exactly the
// messages of log.txt, and encode back to the same bytes.
func TestTranscriptPullChunks(t *testing.T) {
	dir := filepath.Join("testdata", "pull-chunks")
	tiny := mustID(t, "0ac561fac838104e3f2e4ad107b4bee3e938bf15f2b15f009ccccd61a913f017")
	zero := mustID(t, "1c8109946feed9f9e9fe4b5144d90f05a50fb3275e848cb72f4b9546d8c533f2")
	cacnk := func(id chunk.ID) []byte { return mustFile(t, filepath.Join(dir, id.String()+".cacnk")) }
	c2s := []*Message{
		{Type: Hello, Flags: PullChunks},
		{Type: Request, IDs: []chunk.ID{tiny}},
		{Type: Request, IDs: []chunk.ID{zero}},
		{Type: Request, IDs: []chunk.ID{{}}},
		{Type: Goodbye},
	}
	s2c := []*Message{
		{Type: Hello, Flags: ReadableStore},
		{Type: Chunk, Flags: Compressed, ID: tiny, Data: cacnk(tiny)},
		{Type: Chunk, Flags: Compressed, ID: zero, Data: cacnk(zero)},
		{Type: Missing},
	}
	checkTranscript(t, mustFile(t, filepath.Join(dir, "c2s.bin")), c2s)
	checkTranscript(t, mustFile(t, filepath.Join(dir, "s2c.bin")), s2c)
}

// TestTranscriptPullIndex: `casync pull - - tiny.caibx -` sends the index
// in INDEX messages and INDEX_EOF after the HELLOs.
func TestTranscriptPullIndex(t *testing.T) {
	dir := filepath.Join("testdata", "pull-index")
	checkTranscript(t, mustFile(t, filepath.Join(dir, "c2s.bin")), []*Message{
		{Type: Hello, Flags: PullIndex},
		{Type: Goodbye},
	})
	s2c := []*Message{
		{Type: Hello, Flags: ReadableIndex},
		{Type: Index, Data: mustFile(t, filepath.Join(dir, "index"))},
		{Type: IndexEOF},
	}
	checkTranscript(t, mustFile(t, filepath.Join(dir, "s2c.bin")), s2c)
	// File() sends the same bytes as casync did.
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Hello(ReadableIndex)
	if err := w.File(Index, bytes.NewReader(s2c[1].Data)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if !bytes.Equal(b.Bytes(), mustFile(t, filepath.Join(dir, "s2c.bin"))) {
		t.Error("File(Index) does not send what casync sent")
	}
}

func checkTranscript(t *testing.T, stream []byte, want []*Message) {
	t.Helper()
	got := readAll(t, stream)
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.Flags != w.Flags || g.ID != w.ID || !bytes.Equal(g.Data, w.Data) ||
			len(g.IDs) != len(w.IDs) || (len(w.IDs) > 0 && g.IDs[0] != w.IDs[0]) {
			t.Errorf("message %d: got %v, want %v", i, g, w)
		}
	}
	if !bytes.Equal(encodeAll(t, got), stream) {
		t.Error("the messages do not encode back to the recorded bytes")
	}
}

// frame builds a raw message: size (or the real size if size is 0), type, body.
func frame(size uint64, t uint64, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	if size == 0 {
		size = uint64(16 + len(b))
	}
	out := binary.LittleEndian.AppendUint64(nil, size)
	out = binary.LittleEndian.AppendUint64(out, t)
	return append(out, b...)
}

func le(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// TestBadFrames: each malformed message is a *FrameError that says what is
// wrong, at the message's offset.
func TestBadFrames(t *testing.T) {
	hello := frame(0, uint64(Hello), le(PullChunks))
	id := make([]byte, 32)
	cases := []struct {
		name   string
		stream []byte
		want   string
	}{
		{"size below 16", frame(15, uint64(Goodbye)), "size 15 is outside"},
		{"size 0", frame(8, uint64(Goodbye)), "outside 16"},
		{"size above 16 MiB", frame(MaxMessageSize+1, uint64(Chunk)), "size 16777217 is outside"},
		{"unknown type", frame(0, 0x1234), "unknown message type 0x1234"},
		{"HELLO flags 0", frame(0, uint64(Hello), le(0)), "feature flags are 0"},
		{"HELLO flags all ones", frame(0, uint64(Hello), le(^uint64(0))), "all ones"},
		{"HELLO undefined bit", frame(0, uint64(Hello), le(0x2040)), "undefined bits 0x2000"},
		{"HELLO too long", frame(0, uint64(Hello), le(1), le(1)), "size 32, want 24"},
		{"GOODBYE with a body", frame(0, uint64(Goodbye), le(0)), "size 24, want 16"},
		{"REQUEST without IDs", frame(0, uint64(Request), le(0)), "want at least 56"},
		{"REQUEST half an ID", frame(0, uint64(Request), le(0), id, id[:16]), "not 24 + 32"},
		{"REQUEST bad flags", frame(0, uint64(Request), le(2), id), "only HIGH_PRIORITY"},
		{"CHUNK without data", frame(0, uint64(Chunk), le(1), id), "want at least 57"},
		{"CHUNK bad flags", frame(0, uint64(Chunk), le(3), id, []byte{1}), "only COMPRESSED"},
		{"MISSING short", frame(0, uint64(Missing), id[:31]), "size 47, want 48"},
		{"INDEX empty", frame(0, uint64(Index)), "want at least 17"},
		{"ABORT no NUL", frame(0, uint64(Abort), le(5), []byte("oops")), "not NUL-terminated"},
		{"ABORT control character", frame(0, uint64(Abort), le(5), []byte("a\x01b\x00")), "control character"},
		{"ABORT errno", frame(0, uint64(Abort), le(1<<31), []byte("x\x00")), "errno"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(append(append([]byte{}, hello...), c.stream...)))
			if _, err := r.ReadMessage(); err != nil {
				t.Fatal(err)
			}
			_, err := r.ReadMessage()
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FrameError", err)
			}
			if fe.Offset != 24 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q at offset %d, want %q at offset 24", err, fe.Offset, c.want)
			}
		})
	}
}

// TestTruncated: a stream that ends inside a message is
// io.ErrUnexpectedEOF, one that ends between messages io.EOF.
func TestTruncated(t *testing.T) {
	full := frame(0, uint64(Chunk), le(0), make([]byte, 32), []byte("data"))
	for n := 1; n < len(full); n++ {
		_, err := NewReader(bytes.NewReader(full[:n])).ReadMessage()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%d of %d bytes: %v, want io.ErrUnexpectedEOF", n, len(full), err)
		}
	}
	if _, err := NewReader(bytes.NewReader(nil)).ReadMessage(); err != io.EOF {
		t.Fatalf("empty stream: %v, want io.EOF", err)
	}
}

// TestAbortRoundTrip: a reason with characters a reader refuses is sent
// cleaned, and reads back.
func TestAbortRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Abort(5, "no such file\nor \x00 directory \xff")
	w.Flush()
	m, err := NewReader(&b).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != Abort || m.Errno != 5 || m.Reason != "no such file?or ? directory ?" {
		t.Fatalf("got %v", m)
	}
}

// TestRequestBatches: many IDs go out as REQUESTs of at most
// MaxRequestIDs, none larger than 64 KiB of IDs.
func TestRequestBatches(t *testing.T) {
	ids := make([]chunk.ID, 2*MaxRequestIDs+3)
	for i := range ids {
		ids[i][0], ids[i][1] = byte(i), byte(i>>8)
	}
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Request(HighPriority, ids); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	ms := readAll(t, b.Bytes())
	if len(ms) != 3 || len(ms[0].IDs) != MaxRequestIDs || len(ms[2].IDs) != 3 {
		t.Fatalf("%d messages", len(ms))
	}
	var got []chunk.ID
	for _, m := range ms {
		if m.Flags != HighPriority {
			t.Errorf("flags %d", m.Flags)
		}
		got = append(got, m.IDs...)
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("ID %d differs", i)
		}
	}
}

// TestWriterRefuses: messages that a reader would refuse are not sent.
func TestWriterRefuses(t *testing.T) {
	w := NewWriter(io.Discard)
	if err := w.Hello(0); err == nil {
		t.Error("HELLO with flags 0 written")
	}
	if err := w.Chunk(1, chunk.ID{}, make([]byte, MaxMessageSize)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized CHUNK: %v", err)
	}
	if err := w.Chunk(1, chunk.ID{}, nil); err == nil {
		t.Error("empty CHUNK written")
	}
}

func TestCheckHello(t *testing.T) {
	cases := []struct {
		local, remote uint64
		ok            bool
		want          string
	}{
		{PullChunks, ReadableStore, true, ""},
		{PullChunks, ReadableStore | ReadableIndex, true, ""},
		{PullChunks | PullIndex, ReadableStore | ReadableIndex, true, ""},
		{ReadableStore, PullChunks, true, ""},
		{PullChunks, ReadableIndex, false, "pulling chunks needs a readable store"},
		{PullIndex, ReadableStore, false, "readable index"},
		{ReadableStore, PullIndex, false, "readable index"},
		{ReadableStore, ReadableStore, false, "neither side"},
		{ReadableStore, PushChunks, false, "writable store"},
		{WritableStore | WritableIndex, PushIndexChunks | PushIndex, false, "PUSH_INDEX_CHUNKS"},
		{PullChunks, 0, false, "feature flags are 0"},
	}
	for _, c := range cases {
		err := CheckHello(c.local, c.remote)
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckHello(%s, %s) = %v, want ok=%v %q", FeatureString(c.local), FeatureString(c.remote), err, c.ok, c.want)
		}
	}
}
