// Package sftptest starts a real OpenSSH sshd for tests: on 127.0.0.1 at a
// free port, key-only login as the current user, the sftp subsystem, all
// its files (config, host key, authorized_keys, pid file) in a temporary
// directory, killed when the test ends. Its client side is an ssh wrapper
// script, to be set as CASYNC_SSH_PATH, that runs the system's ssh with a
// configuration of its own (the test's key, a known_hosts holding just the
// server's key, BatchMode), so the user's ~/.ssh plays no part; other
// wrappers fail as a user would see it (a key the server refuses, a host
// key that does not match).
//
// When sshd is not installed Start skips the test, or fails it when the
// environment has CI=true.
package sftptest
