package ocistore

import (
	"errors"
	"net/http"
	"syscall"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/folbricht/desync/storage"
)

// Classify says what an error of the driver means:
//   - missing: a 404 (unknown manifest or blob, a tag not there);
//   - permanent: 401/403 and other 4xx (refused or missing credentials, a
//     repository the login may not see), a tag that is not a desync chunk
//     artifact, a refused connection or a host that does not resolve (no
//     registry there), TLS failures;
//   - transient: 408, 429 and 5xx, timeouts, reset connections, bodies
//     cut short.
func (d *Driver) Classify(err error) storage.ErrorKind { return classify(err) }

func classify(err error) storage.ErrorKind {
	var resp *errcode.ErrorResponse
	var nc *notChunkError
	var left *leftAloneError
	switch {
	case err == nil:
		return storage.KindUnknown
	case errors.As(err, &left), errors.Is(err, errdef.ErrNotFound):
		return storage.KindMissing
	case errors.As(err, &resp):
		return storage.ClassifyStatus(resp.StatusCode)
	case errors.As(err, &nc), errors.Is(err, errors.ErrUnsupported), errors.Is(err, auth.ErrBasicCredentialNotFound):
		return storage.KindPermanent
	case errors.Is(err, syscall.ECONNREFUSED):
		// Nothing listens there: no registry at this address. Retrying
		// for minutes would hide a wrong location.
		return storage.KindPermanent
	}
	return storage.ClassifyNetwork(err)
}

// explain adds what a refusal means to an error of the registry API.
func explain(err error) error {
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return &hintError{err, "the registry wants credentials (DESYNC_OCI_USERNAME/DESYNC_OCI_PASSWORD, oci-credentials in config.json, docker login)"}
	}
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) {
		return err
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return &hintError{err, "the registry refused the credentials or wants some (DESYNC_OCI_USERNAME/DESYNC_OCI_PASSWORD, oci-credentials in config.json, docker login)"}
	case http.StatusForbidden:
		return &hintError{err, "access denied: the repository does not exist or the login may not use it"}
	}
	return err
}

// hintError is an error with a sentence saying what it likely means.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.hint + ": " + e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// leftAloneError: Delete found something other than a chunk artifact
// under the tag and did not delete it.
type leftAloneError struct{ err error }

func (e *leftAloneError) Error() string { return "not deleted: " + e.err.Error() }
func (e *leftAloneError) Unwrap() error { return e.err }
