package ocitest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Bearer is a token-authenticated front of an anonymous registry.
type Bearer struct {
	*Server            // the front: Addr is the proxy's; User and Pass log in
	Backend *Server    // the registry behind it
	Tokens  func() int // how many tokens the token endpoint handed out

	mu     sync.Mutex
	tokens map[string]string // token -> repository it grants
	issued int
}

var repoPath = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs|tags)/`)

// StartBearer starts a registry and, in front of it, a proxy that wants a
// bearer token for every /v2/<repo>/… request and has a token endpoint
// (/token) that gives one for basic credentials User:Pass, for the
// repositories of allow only. A token for another repository, or none,
// gets 401 with the Bearer challenge again.
func StartBearer(t testing.TB, allow ...string) *Bearer {
	t.Helper()
	backend := Start(t)
	target, _ := url.Parse("http://" + backend.Addr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Bearer{
		Server:  &Server{Addr: l.Addr().String(), Root: backend.Root, User: "desync-bearer", Pass: "bearer-test-password-17"},
		Backend: backend,
		tokens:  map[string]string{},
	}
	b.Tokens = func() int { b.mu.Lock(); defer b.mu.Unlock(); return b.issued }
	allowed := map[string]bool{}
	for _, r := range allow {
		allowed[r] = true
	}
	realm := "http://" + b.Addr + "/token"
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != b.User || pass != b.Pass {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`)
			return
		}
		repo := ""
		for _, sc := range r.URL.Query()["scope"] {
			// repository:<name>:pull,push
			parts := strings.Split(sc, ":")
			if len(parts) == 3 && parts[0] == "repository" && allowed[parts[1]] {
				repo = parts[1]
			}
		}
		tok := make([]byte, 16)
		rand.Read(tok)
		token := hex.EncodeToString(tok)
		b.mu.Lock()
		b.tokens[token] = repo
		b.issued++
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token": token, "access_token": token, "expires_in": 300})
	})
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {
		repo := ""
		if m := repoPath.FindStringSubmatch(r.URL.Path); m != nil {
			repo = m[1]
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		b.mu.Lock()
		granted, known := b.tokens[token]
		b.mu.Unlock()
		if !known || repo != "" && granted != repo {
			challenge := fmt.Sprintf(`Bearer realm=%q,service="desync-test"`, realm)
			if repo != "" {
				challenge += fmt.Sprintf(`,scope="repository:%s:pull,push,delete"`, repo)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return b
}
