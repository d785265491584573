package sftpstore_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/folbricht/desync/storage"
	sftpstore "github.com/folbricht/desync/storage-sftp"
)

func TestLocation(t *testing.T) {
	for _, tc := range []struct {
		loc    string
		args   []string
		string string
	}{
		{"sftp://host/store", []string{"-s", "--", "host", "sftp"}, "sftp://host/store/"},
		{"sftp://bob@host:2222/srv/store/", []string{"-p", "2222", "-l", "bob", "-s", "--", "host", "sftp"}, "sftp://bob@host:2222/srv/store/"},
		{"sftp://[::1]:22/x", []string{"-p", "22", "-s", "--", "::1", "sftp"}, "sftp://[::1]:22/x/"},
		{"sftp://host/it's%20a%20store", []string{"-s", "--", "host", "sftp"}, "sftp://host/it%27s%20a%20store/"},
		{"sftp://host", []string{"-s", "--", "host", "sftp"}, "sftp://host/"},
	} {
		u, err := url.Parse(tc.loc)
		if err != nil {
			t.Fatal(err)
		}
		d, err := sftpstore.NewDriver(u, storage.Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.loc, err)
			continue
		}
		if got := sftpstore.SSHArgs(d); !slices.Equal(got, tc.args) {
			t.Errorf("%s: ssh %q, want %q", tc.loc, got, tc.args)
		}
		if d.String() != tc.string {
			t.Errorf("%s: String() = %q, want %q", tc.loc, d.String(), tc.string)
		}
	}
}

// TestHostileLocations: what ssh could take for an option is refused
// before anything runs, with an error that says why.
func TestHostileLocations(t *testing.T) {
	for _, loc := range []string{
		"sftp://-oProxyCommand=touch%20/tmp/pwned@host/x",
		"sftp://-oProxyCommand=x/path",
		"sftp://-l@host/x",
		"sftp://user@-p/x",
		"sftp://us%0Aer@host/x",
		"sftp://user:hunter2@host/x",
		"sftp:relative",
		"sftp://host:99999/x",
		"sftp://host/x?proxy=1",
	} {
		u, err := url.Parse(loc)
		if err != nil {
			continue // refused by the URL parser: fine too
		}
		d, err := sftpstore.NewDriver(u, storage.Options{})
		if err == nil {
			t.Errorf("%s: accepted (ssh %q)", loc, sftpstore.SSHArgs(d))
			continue
		}
		if !storage.IsPermanent(err) {
			t.Errorf("%s: %v is not permanent", loc, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the password: %v", loc, err)
		}
	}
}
