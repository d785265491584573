package cli

import (
	"context"
	"strings"

	"github.com/folbricht/desync/httpserver"
)

func (a *app) indexServerCmd() *command {
	var srv serverFlags
	var dir string
	var writable bool
	c := a.newCommand(commandSpec{
		name:    "index-server",
		usage:   "desync index-server -s <dir> [flags]",
		minArgs: 0,
		maxArgs: 0,
		short:   "serve index files over HTTP(S)",
		long: `Serves the index files of one directory (-s): GET and HEAD /<name>, and PUT
/<name> with -w (the upload must be a valid index; it is written to a temporary
file and renamed into place). Only index files are served or written: a name
must end in .caibx or .caidx and a file must be an index; other requests get
400, so other files in the directory stay private. Names are single path
elements; a request cannot reach outside the directory ("..", encoded slashes
and symbolic links leading out are refused). /metrics has Prometheus metrics. TLS, mutual TLS,
--authorization ($DESYNC_HTTP_AUTH), --log and signals are as for
chunk-server.

Example:
  desync index-server -s /var/indexes -l :8080
  desync extract -s http://host:8081/ http://host:8080/image.caibx image.raw`,
	})
	fs := c.FlagSet
	fs.StringVar(&dir, "s", "", "directory of the index files")
	fs.StringVar(&dir, "store", "", "directory of the index files")
	fs.BoolVar(&writable, "w", false, "accept index uploads (PUT)")
	fs.BoolVar(&writable, "writable", false, "accept index uploads (PUT)")
	fs.BoolVar(&writable, "writeable", false, "accept index uploads (PUT); the same as --writable")
	srv.add(fs)
	c.Exec = func(ctx context.Context, args []string) error {
		if err := srv.validate(); err != nil {
			return err
		}
		if dir == "" {
			return usageErr("index-server: no index directory given (-s)")
		}
		if strings.Contains(dir, "://") && !strings.HasPrefix(dir, "file://") {
			return usageErr("index-server: -s %s: only a local directory can be served", dir)
		}
		dir = strings.TrimPrefix(dir, "file://")
		access, closeLog, err := srv.accessLog(a.io.Err)
		if err != nil {
			return err
		}
		defer closeLog()
		is, err := httpserver.NewIndexServer(dir, httpserver.IndexServerOptions{
			Writable: writable, Authorization: srv.authorization, Metrics: httpserver.NewMetrics(),
			Logger: a.log, AccessLog: access,
		})
		if err != nil {
			return err
		}
		defer is.Close()
		lns, err := a.listen("index-server", &srv)
		if err != nil {
			return err
		}
		return httpserver.Serve(ctx, is, lns, srv.serveOptions(a.log))
	}
	return c
}
