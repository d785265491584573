package gcsstore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/folbricht/desync/storage"
	gcsstore "github.com/folbricht/desync/storage-gcs"
	"github.com/folbricht/desync/storage-gcs/gcstest"
	"github.com/folbricht/desync/storage/storagetest"
)

// TestRefusedCredentials: application default credentials (a service
// account key file) that the token endpoint refuses make every call fail
// permanently (one request through a retry), naming the store, and the
// key shows in no message. No request reaches GCS: the token comes first.
func TestRefusedCredentials(t *testing.T) {
	var tokenCalls atomic.Int64
	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
	}))
	defer refuser.Close()
	adc, keyLines := gcstest.ServiceAccountFile(t, refuser.URL)
	t.Setenv(gcsstore.EmulatorEnv, "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", adc)

	u, _ := url.Parse("gs://bkt/store")
	s, err := gcsstore.NewStore(context.Background(), u, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.GetChunk(context.Background(), [32]byte{1})
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("GetChunk with refused credentials: %v, want the token endpoint's refusal", err)
	}
	for _, line := range keyLines {
		if err != nil && strings.Contains(err.Error(), line) {
			t.Errorf("the error shows the private key: %v", err)
		}
	}
	if tokenCalls.Load() == 0 {
		t.Error("the token endpoint was never asked")
	}
	storagetest.RunUnreachable(t, s)
}
