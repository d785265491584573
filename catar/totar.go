package catar

import (
	"archive/tar"
	"context"
	"io"
	"time"
)

// WriteTar decodes the archive stream r and writes it to w as a tar stream
// GNU tar reads, the way the original desync's `untar --output-format
// gnu-tar` names things: the root as ".", other entries by their relative
// path (no "./" prefix, no trailing slash on directories).
//
// Choices (the GNU format has no place for some of what an archive holds):
//   - Headers are GNU format (long names and large ids as GNU extensions),
//     mtimes in whole seconds (rounded down).
//   - An entry with xattrs or file capabilities is written as a PAX header
//     instead, with SCHILY.xattr.* records (security.capability for the
//     capabilities) and its full nanosecond mtime; GNU tar reads both forms
//     in one stream (--xattrs restores them).
//   - ACLs, chattr flags and SELinux labels are not written; sockets are
//     left out (tar cannot hold them, GNU tar skips them too).
//   - uname/gname are the archived USER/GROUP names, and "root" for id 0
//     when the archive has user names (as casync's mtree shows them).
//
// The tar stream is finished (end blocks written) but w is not closed.
func WriteTar(ctx context.Context, w io.Writer, r io.Reader) error {
	ar := NewReader(r)
	tw := tar.NewWriter(w)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		hdr := tarHeader(e, ar.Features())
		if hdr == nil {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			// A PAX header refuses some names (not UTF-8): fall back to GNU
			// without the xattrs rather than fail.
			if hdr.Format != tar.FormatPAX {
				return &ExtractError{Path: e.Path, Offset: ar.Offset(), Op: "tar header", Err: err}
			}
			hdr.Format, hdr.PAXRecords = tar.FormatGNU, nil
			hdr.ModTime = hdr.ModTime.Truncate(time.Second)
			if err := tw.WriteHeader(hdr); err != nil {
				return &ExtractError{Path: e.Path, Offset: ar.Offset(), Op: "tar header", Err: err}
			}
		}
		if e.IsRegular() {
			if _, err := io.Copy(tw, ar); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// tarHeader is the tar header of an entry; nil for what tar cannot hold.
func tarHeader(e *Entry, f Features) *tar.Header {
	name := e.Path
	if name == "" {
		name = "."
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(e.Mode & ModePerm),
		Uid:     int(e.UID),
		Gid:     int(e.GID),
		ModTime: time.Unix(0, e.MTime).Truncate(time.Second),
		Format:  tar.FormatGNU,
	}
	if f&WithUserNames != 0 {
		hdr.Uname, hdr.Gname = mtreeOwner(e.User, e.UID), mtreeOwner(e.Group, e.GID)
	}
	switch e.Type() {
	case ModeDir:
		hdr.Typeflag = tar.TypeDir
	case ModeRegular:
		hdr.Typeflag, hdr.Size = tar.TypeReg, e.Size
	case ModeSymlink:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Target
	case ModeChar, ModeBlock:
		hdr.Typeflag = tar.TypeChar
		if e.Type() == ModeBlock {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(e.DevMajor), int64(e.DevMinor)
	case ModeFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil
	}
	if len(e.Xattrs) > 0 || e.FCaps != nil {
		hdr.Format = tar.FormatPAX
		hdr.ModTime = time.Unix(0, e.MTime)
		hdr.PAXRecords = make(map[string]string, len(e.Xattrs)+1)
		for _, x := range e.Xattrs {
			hdr.PAXRecords["SCHILY.xattr."+x.Name] = string(x.Value)
		}
		if e.FCaps != nil {
			hdr.PAXRecords["SCHILY.xattr.security.capability"] = string(e.FCaps)
		}
	}
	return hdr
}
