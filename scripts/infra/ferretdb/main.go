// Command tbp-ferretdb runs FerretDB (MongoDB wire protocol) with its SQLite backend,
// embedded through FerretDB's public `ferretdb` package.
//
// Building FerretDB's own cmd from the module proxy panics on a missing
// build/version/version.txt; the embedded package does not need that file.
// Built and started by scripts/infra/ferretdb.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("sqlite-dir", "data", "directory holding the SQLite databases")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "tbp-ferretdb: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		logger.Error("bad -sqlite-dir", "error", err)
		os.Exit(2)
	}
	if err = os.MkdirAll(dir, 0o755); err != nil {
		logger.Error("cannot create -sqlite-dir", "error", err)
		os.Exit(1)
	}
	// FerretDB wants a SQLite URI naming a directory, with a trailing slash.
	sqliteURL := "file:" + strings.TrimSuffix(dir, "/") + "/"

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "error", err)
		os.Exit(1)
	}

	// Written to stderr whatever the log level, so the log shows what started.
	fmt.Fprintf(os.Stderr, "tbp-ferretdb: serving %s on %s (sqlite %s), pid %d\n",
		"mongodb://"+*listen+"/", *listen, sqliteURL, os.Getpid())

	if err = f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with an error", "error", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "tbp-ferretdb: stopped")
}
