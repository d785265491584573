package catar

import (
	"bufio"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
)

// WriteMtree decodes the archive stream r and writes one line per entry to
// w, exactly as `casync mtree` prints them: the escaped path ("." for the
// root), type, mode, then size/link/device, uid/gid, uname/gname, flags,
// time and the payload digest, each only when the archive's features carry
// it. casync's quirks are kept: uname/gname "root" for id 0 (other ids only
// with a USER/GROUP record), and the flags= field of anything but files and
// directories naming every flag as set, and the digest field named
// sha512256digest even in a SHA-256 archive.
func WriteMtree(w io.Writer, r io.Reader) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	ar := NewReader(r)
	var line []byte
	var h hash.Hash
	var sum []byte
	for {
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		f := ar.Features()
		if h == nil {
			if f&SHA512_256 != 0 {
				h = sha512.New512_256()
			} else {
				h = sha256.New()
			}
		}
		line = line[:0]
		if e.Path == "" {
			line = append(line, '.')
		} else {
			line = mtreeEscape(line, e.Path)
		}
		line = append(line, " type="...)
		line = append(line, mtreeType(e.Type())...)
		line = fmt.Appendf(line, " mode=%04o", e.Mode&ModePerm)
		switch e.Type() {
		case ModeRegular:
			line = append(line, " size="...)
			line = strconv.AppendInt(line, e.Size, 10)
		case ModeSymlink:
			line = append(line, " link="...)
			line = mtreeEscape(line, e.Target)
		case ModeChar, ModeBlock:
			line = fmt.Appendf(line, " device=linux,%d,%d", e.DevMajor, e.DevMinor)
		}
		if f&(With16BitUIDs|With32BitUIDs) != 0 {
			line = fmt.Appendf(line, " uid=%d gid=%d", e.UID, e.GID)
		}
		if f&WithUserNames != 0 {
			if n := mtreeOwner(e.User, e.UID); n != "" {
				line = append(line, " uname="...)
				line = mtreeEscape(line, n)
			}
			if n := mtreeOwner(e.Group, e.GID); n != "" {
				line = append(line, " gname="...)
				line = mtreeEscape(line, n)
			}
		}
		line = mtreeFlags(line, f, e)
		if f&WithTimes != 0 {
			line = fmt.Appendf(line, " time=%d.%09d", e.MTime/1e9, e.MTime%1e9)
		}
		if e.IsRegular() {
			h.Reset()
			if _, err := io.Copy(h, ar); err != nil {
				return err
			}
			sum = h.Sum(sum[:0])
			// casync names the field sha512256digest even when the
			// archive's digest is SHA-256 (and hashes with SHA-256 then).
			line = append(line, " sha512256digest="...)
			line = hex.AppendEncode(line, sum)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func mtreeType(t uint32) string {
	switch t {
	case ModeDir:
		return "dir"
	case ModeRegular:
		return "file"
	case ModeSymlink:
		return "link"
	case ModeChar:
		return "char"
	case ModeBlock:
		return "block"
	case ModeFIFO:
		return "fifo"
	case ModeSocket:
		return "socket"
	}
	return "unknown"
}

// mtreeOwner is the name casync prints for an owner: the archived name, or
// "root" for id 0 (casync never archives that name).
func mtreeOwner(name string, id uint32) string {
	if name != "" {
		return name
	}
	if id == 0 {
		return "root"
	}
	return ""
}

// mtreeFlags appends casync's flags= field: the FAT hidden/system/archive
// and the chattr append/immutable flags the archive's features carry, "no"
// prefixed when clear. casync prints them all as set for entries other than
// files and directories, and so does this.
func mtreeFlags(line []byte, f Features, e *Entry) []byte {
	all := e.Type() != ModeRegular && e.Type() != ModeDir
	first := true
	for _, fl := range []struct {
		bit  Features
		name string
	}{
		{WithFlagHidden, "hidden"}, {WithFlagSystem, "system"}, {WithFlagArchive, "archive"},
		{WithFlagAppend, "sappend"}, {WithFlagImmutable, "simmutable"},
	} {
		if f&fl.bit == 0 {
			continue
		}
		if first {
			line = append(line, " flags="...)
			first = false
		} else {
			line = append(line, ',')
		}
		if !all && e.Flags&uint64(fl.bit) == 0 {
			line = append(line, "no"...)
		}
		line = append(line, fl.name...)
	}
	return line
}

// mtreeEscape appends s with casync's mtree escaping: control bytes, bytes
// from 0x7f up, space, '#' and backslash as a backslash and three octal
// digits.
func mtreeEscape(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' || c == '\\' {
			b = append(b, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
			continue
		}
		b = append(b, c)
	}
	return b
}
