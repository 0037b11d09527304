package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith/api"
	"github.com/marksmith/marksmith/app"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/sessions"
	"github.com/marksmith/marksmith/storage"
)

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
		check   func(c *config) bool
		rest    []string
	}{
		{"defaults", nil, nil, func(c *config) bool {
			return c.DatabaseURL == "" && c.Addr == ":8080" && c.AutoMigrate == "auto" && c.SeedBank &&
				c.AdminEmail == "admin@localhost" && c.AccessTTL == app.DefaultAccessTTL && c.RefreshTTL == sessions.DefaultRefreshTTL &&
				c.BodyLimit == api.DefaultBodyLimit && c.ShutdownTimeout == 15*time.Second && c.LogLevel == slog.LevelInfo &&
				c.LogFormat == "text" && !c.TrustProxy && c.JWTIssuer == app.DefaultIssuer &&
				c.PrintQueue == exams.DefaultPrintQueue && c.PrintKeep == exams.DefaultPrintKeep
		}, []string{}},
		{"env", map[string]string{
			"MARKSMITH_ADDR": "0.0.0.0:9000", "MARKSMITH_DATABASE_URL": "postgres://db/m", "MARKSMITH_ACCESS_TTL": "5m",
			"MARKSMITH_BODY_LIMIT": "8M", "MARKSMITH_TRUST_PROXY": "true", "MARKSMITH_AUTO_MIGRATE": "TRUE",
			"MARKSMITH_LOG_LEVEL": "debug", "MARKSMITH_LOG_FORMAT": "json", "MARKSMITH_SEED_BANK": "false",
			"MARKSMITH_PRINT_QUEUE": "3", "MARKSMITH_PRINT_KEEP": "2h",
		}, nil, func(c *config) bool {
			return c.Addr == "0.0.0.0:9000" && c.DatabaseURL == "postgres://db/m" && c.AccessTTL == 5*time.Minute &&
				c.BodyLimit == 8<<20 && c.TrustProxy && c.AutoMigrate == "true" && c.LogLevel == slog.LevelDebug &&
				c.LogFormat == "json" && !c.SeedBank && c.PrintQueue == 3 && c.PrintKeep == 2*time.Hour
		}, []string{}},
		{"flags beat env", map[string]string{"MARKSMITH_ADDR": ":9000", "MARKSMITH_TRUST_PROXY": "true", "MARKSMITH_REFRESH_TTL": "1h"},
			[]string{"--addr", ":7000", "--trust-proxy=false", "--migrate", "--body-limit=512K", "extra"}, func(c *config) bool {
				return c.Addr == ":7000" && !c.TrustProxy && c.AutoMigrate == "true" && c.BodyLimit == 512<<10 && c.RefreshTTL == time.Hour
			}, []string{"extra"}},
		{"migrate auto by flag", map[string]string{"MARKSMITH_AUTO_MIGRATE": "false"}, []string{"--migrate=auto"},
			func(c *config) bool { return c.AutoMigrate == "auto" }, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rest, err := loadConfig("serve", "usage", tc.args, mapEnv(tc.environ), io.Discard, true)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) || strings.Join(rest, " ") != strings.Join(tc.rest, " ") {
				t.Fatalf("config %+v, rest %q", c, rest)
			}
		})
	}
	for _, tc := range []struct {
		environ map[string]string
		args    []string
		want    string
	}{
		{map[string]string{"MARKSMITH_AUTO_MIGRATE": "sometimes"}, nil, "want true, false or auto"},
		{map[string]string{"MARKSMITH_LOG_FORMAT": "xml"}, nil, "want text or json"},
		{map[string]string{"MARKSMITH_SHUTDOWN_TIMEOUT": "-1s"}, nil, "positive duration"},
		{map[string]string{"MARKSMITH_IMPORT_MAX_ROWS": "0"}, nil, "positive whole number"},
		{map[string]string{"MARKSMITH_PRINT_QUEUE": "0"}, nil, "from 1 to 10000"},
		{nil, []string{"--print-keep=forever"}, "print-keep"},
		{nil, []string{"--seed-bank=maybe"}, "seed-bank"},
		{nil, []string{"--no-such-flag"}, "no-such-flag"},
	} {
		_, _, err := loadConfig("serve", "usage", tc.args, mapEnv(tc.environ), io.Discard, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
			t.Errorf("loadConfig(%v, %v) = %v; want exit 2 mentioning %q", tc.environ, tc.args, err, tc.want)
		}
	}
	// Commands other than serve do not take serve's settings.
	if _, _, err := loadConfig("migrate", "usage", []string{"--addr", ":1"}, mapEnv(nil), io.Discard, false); err == nil {
		t.Error("migrate accepted --addr")
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"1024", 1024}, {"4M", 4 << 20}, {"4MiB", 4 << 20}, {"16k", 16 << 10}, {"1G", 1 << 30}, {" 2KB ", 2 << 10},
		{"0", 0}, {"-1", 0}, {"lots", 0}, {"3T", 0}, {"", 0}, {"3G", 0},
	} {
		got, err := parseSize(tc.in)
		if got != tc.want || (tc.want == 0) != (err != nil) {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestMigrateOnStart(t *testing.T) {
	for _, tc := range []struct {
		setting, dialect string
		want             bool
	}{
		{"auto", storage.DialectSQLite, true}, {"auto", storage.DialectPostgres, false},
		{"true", storage.DialectPostgres, true}, {"false", storage.DialectSQLite, false},
	} {
		c := &config{AutoMigrate: tc.setting}
		if got := c.migrateOnStart(tc.dialect); got != tc.want {
			t.Errorf("migrateOnStart(%s) with %s = %v", tc.dialect, tc.setting, got)
		}
	}
}

func TestAppConfigSigningKey(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	dbPath := filepath.Join(dir, "m.db")

	c := &config{JWTSecretFile: secretFile}
	cfg, err := c.appConfig(storage.DialectPostgres, logger)
	if err != nil || string(cfg.JWTSecret) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("secret from file = %q, %v", cfg.JWTSecret, err)
	}
	c = &config{JWTSecret: "an inline secret that is long enough!", JWTSecretFile: secretFile}
	if cfg, err := c.appConfig(storage.DialectPostgres, logger); err != nil || string(cfg.JWTSecret) != c.JWTSecret {
		t.Fatalf("inline secret = %q, %v; it should win over the file", cfg.JWTSecret, err)
	}
	if _, err := (&config{}).appConfig(storage.DialectPostgres, logger); err == nil || !strings.Contains(err.Error(), "MARKSMITH_JWT_SECRET") {
		t.Fatalf("postgres without a secret = %v; want a refusal naming the settings", err)
	}
	if _, err := (&config{JWTKeyFile: secretFile}).appConfig(storage.DialectSQLite, logger); err == nil {
		t.Fatal("a key file that is not an Ed25519 PEM key was accepted")
	}
	// SQLite without a secret generates one beside the database and reuses it.
	c = &config{DatabaseURL: "sqlite:" + dbPath}
	first, err := c.appConfig(storage.DialectSQLite, logger)
	if err != nil || len(first.JWTSecret) < 32 {
		t.Fatalf("generated secret = %q, %v", first.JWTSecret, err)
	}
	info, err := os.Stat(dbPath + ".jwt-secret")
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v; want mode 0600", info, err)
	}
	second, err := c.appConfig(storage.DialectSQLite, logger)
	if err != nil || string(second.JWTSecret) != string(first.JWTSecret) {
		t.Fatalf("second secret %q differs from the first %q (%v)", second.JWTSecret, first.JWTSecret, err)
	}
}

func TestSQLitePath(t *testing.T) {
	for in, want := range map[string]string{
		"": "marksmith.db", "sqlite:/d/x.db": "/d/x.db", "file:x.db?cache=shared": "x.db", "./a/b.db": "a/b.db",
		"sqlite::memory:": "", "sqlite://rel/y.sqlite": "rel/y.sqlite",
	} {
		if got := sqlitePath(in); got != want {
			t.Errorf("sqlitePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOperationsDocListsEverySetting keeps docs/operations.md in step with
// settings(): each environment variable, flag and default is in its table.
func TestOperationsDocListsEverySetting(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `MARKSMITH_") {
			env := strings.Trim(strings.TrimSpace(strings.Split(line, "|")[1]), "`")
			rows[env] = line
		}
	}
	for _, s := range settings() {
		row, ok := rows[s.env]
		if !ok {
			t.Errorf("docs/operations.md has no row for %s", s.env)
			continue
		}
		if !strings.Contains(row, "`--"+s.flag+"`") {
			t.Errorf("docs/operations.md row of %s does not name --%s", s.env, s.flag)
		}
		if s.def != "" && !strings.Contains(row, "`"+s.def+"`") {
			t.Errorf("docs/operations.md row of %s does not give the default `%s`", s.env, s.def)
		}
		delete(rows, s.env)
	}
	for env := range rows {
		if env != "MARKSMITH_TEST_POSTGRES" {
			t.Errorf("docs/operations.md documents %s, which is not a setting", env)
		}
	}
}
