package sftpstore

// SetNoPosixRename makes d's uploads rename as on a server without
// posix-rename@openssh.com.
func SetNoPosixRename(d *Driver) { d.noPosixRename = true }

// KillIdle kills the ssh processes of d's idle sessions, as a dropped
// connection would end them.
func KillIdle(d *Driver) int {
	d.pool.mu.Lock()
	defer d.pool.mu.Unlock()
	for _, s := range d.pool.idle {
		s.kill()
		<-s.done
	}
	return len(d.pool.idle)
}

// SSHArgs returns the argument vector d runs ssh with.
func SSHArgs(d *Driver) []string { return d.t.sshArgs() }

// KillStream kills the ssh process under a stream returned by Open, as a
// dropped connection would, and waits for it to exit.
func KillStream(rc any) {
	s := rc.(*remoteFile).s
	s.cmd.Process.Kill()
	<-s.done
}
