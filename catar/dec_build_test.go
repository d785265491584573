package catar

import (
	"encoding/binary"
	"sort"
)

// tn is a node of a hand-made archive for the decoder tests: the records
// are written as given (names in the given order, nothing validated), so
// tests can build archives casync would never write.
type tn struct {
	name    string // FILENAME of a child (raw, unchecked)
	mode    uint32
	uid     uint64
	gid     uint64
	mtime   uint64
	flags   uint64
	feat    *Features // overrides the archive's flags in this ENTRY
	meta    [][]byte  // raw records after the ENTRY
	payload []byte
	target  string
	major   uint64
	minor   uint64
	kids    []*tn
	tail    []byte // raw bytes after the object (before the next FILENAME)
	gbItems func(items [][3]uint64, tail *[3]uint64)
}

func rec(typ uint64, body []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(headerSize+len(body)))
	b = binary.LittleEndian.AppendUint64(b, typ)
	return append(b, body...)
}

func le64s(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// buildArchive serializes root with feature flags f.
func buildArchive(f Features, root *tn) []byte {
	var b []byte
	var node func(n *tn)
	node = func(n *tn) {
		entryOff := len(b)
		feat := f
		if n.feat != nil {
			feat = *n.feat
		}
		b = append(b, rec(typeEntry, le64s(uint64(feat), uint64(n.mode), n.flags, n.uid, n.gid, n.mtime))...)
		for _, m := range n.meta {
			b = append(b, m...)
		}
		switch n.mode & ModeType {
		case ModeRegular:
			b = append(b, rec(typePayload, n.payload)...)
		case ModeSymlink:
			b = append(b, rec(typeSymlink, cstr(n.target))...)
		case ModeChar, ModeBlock:
			b = append(b, rec(typeDevice, le64s(n.major, n.minor))...)
		case ModeDir:
			var kids []gbChild
			for _, k := range n.kids {
				start := len(b)
				b = append(b, rec(typeFilename, cstr(k.name))...)
				node(k)
				kids = append(kids, gbChild{start: int64(start), size: int64(len(b) - start), hash: nameHash(k.name)})
			}
			gb := len(b)
			sort.Slice(kids, func(i, j int) bool {
				if kids[i].hash != kids[j].hash {
					return kids[i].hash < kids[j].hash
				}
				return kids[i].start < kids[j].start
			})
			table := make([]gbChild, len(kids))
			k := 0
			eytzinger(kids, table, 0, &k)
			size := uint64(headerSize + (len(kids)+1)*goodbyeItemSize)
			items := make([][3]uint64, len(table))
			for i, c := range table {
				items[i] = [3]uint64{uint64(int64(gb) - c.start), uint64(c.size), c.hash}
			}
			tail := [3]uint64{uint64(gb - entryOff), size, goodbyeTailMarker}
			if n.gbItems != nil {
				n.gbItems(items, &tail)
			}
			var body []byte
			for _, it := range items {
				body = append(body, le64s(it[:]...)...)
			}
			body = append(body, le64s(tail[:]...)...)
			b = append(b, rec(typeGoodbye, body)...)
		}
		b = append(b, n.tail...)
	}
	node(root)
	return b
}

func dirNode(kids ...*tn) *tn { return &tn{mode: ModeDir | 0o755, kids: kids} }
func fileNode(name, data string) *tn {
	return &tn{name: name, mode: ModeRegular | 0o644, payload: []byte(data)}
}
func linkNode(name, target string) *tn {
	return &tn{name: name, mode: ModeSymlink | 0o777, target: target}
}
