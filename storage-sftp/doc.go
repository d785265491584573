// Package sftpstore is desync's SFTP backend: chunk and index stores at
// sftp://[user@]host[:port]/path, registered as the "sftp" scheme with
// storage.DefaultRegistry when the package is imported.
//
// Decision: the SFTP session runs over the ssh program, as casync and the
// original desync do, not over golang.org/x/crypto/ssh. The program is the
// one named by the environment variable CASYNC_SSH_PATH, "ssh" (found in
// PATH) if unset. So the user's ssh configuration (~/.ssh/config, Host
// aliases, ProxyJump), agent, keys and known_hosts checking all apply
// unchanged, and this package holds no credential: a password in the URL
// is refused. It is run with an argument vector, never through a shell:
//
//	ssh [-p PORT] [-l USER] -s -- HOST sftp
//
// and its stdin and stdout carry the SFTP protocol (github.com/pkg/sftp's
// client). A user or host that starts with "-" (such as
// sftp://-oProxyCommand=…@host/x) is refused before anything runs, and
// the host comes after "--" anyway. Remote paths are SFTP protocol fields,
// not shell words: spaces and quotes reach the server as they are.
//
// Files:
//   - location.go: the URL, checked, and the ssh argument vector.
//   - session.go: one ssh process and its SFTP client; why a session did
//     not start (from ssh's exit and the line of its stderr that says
//     so), permanent or transient.
//   - pool.go: up to N sessions per store (storage.Options.N, desync's -n;
//     DefaultSessions if 0), started when needed (a few at a time, under
//     sshd's MaxStartups), each used by one call at a time and reused;
//     one whose connection is lost is closed and later replaced.
//   - driver.go: the storage.ObjectDriver (and ObjectStreamer, so index
//     reads are streamed). Objects are files under the store's directory,
//     chunks at <dir>/<4 hex>/<id>.cacnk as in casync's local stores, so
//     the directory is a local store on the server. Uploads go to
//     ".<name>.desync-<random>.tmp" next to the target and are renamed into
//     place (posix-rename@openssh.com where the server has it, else rename,
//     and remove-then-rename if the target exists), so a reader never sees
//     a partial chunk or index; a failed upload removes its temporary
//     file. List walks the directories (for prune and verify), skipping
//     hidden files.
//   - register.go: the scheme, NewStore and NewIndexStore.
//
// Errors: a file that does not exist is missing (a missing chunk, a
// missing index). Refused authentication, a host key that does not match,
// a host that refuses the connection, does not resolve or does not start
// a session in time, a store
// directory that does not exist or may not be read, and permission denied
// are permanent, and their message says which, with ssh's own line of
// explanation (never a secret: ssh prints none). A connection lost during
// a session is transient (storage.Retry tries again, on a new session).
//
// Time: the store's Timeout option bounds every call and, separately, the
// start of a session; if it is 0, calls are bounded by the caller's
// context only and a session must start within DefaultConnectTimeout (an ssh that prompts
// for a passphrase needs an agent instead). When a caller's context ends,
// its session's ssh is killed, so the call returns at once.
package sftpstore
