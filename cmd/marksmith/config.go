package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/marksmith/marksmith/api"
	"github.com/marksmith/marksmith/app"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/sessions"
	"github.com/marksmith/marksmith/storage"
	"github.com/marksmith/marksmith/users"
	"github.com/marksmith/marksmith/web"
)

// config is the configuration of the commands that use the database:
// serve, migrate and user. Every field is a setting of settings(): a flag
// that overrides an environment variable that overrides the default.
type config struct {
	DatabaseURL string
	AutoMigrate string // "auto", "true" or "false"
	LogLevel    slog.Level
	LogFormat   string // "text" or "json"

	Addr            string
	ShutdownTimeout time.Duration
	SeedBank        bool
	AdminEmail      string

	JWTSecret     string
	JWTSecretFile string
	JWTKeyFile    string
	JWTIssuer     string
	JWTAudience   string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration

	BodyLimit        int
	ReadTimeout      time.Duration
	WriteTimeout     time.Duration
	IdleTimeout      time.Duration
	TrustProxy       bool
	SecureCookies    bool
	ImportMaxRows    int
	TemplateMaxBytes int
	PrintQueue       int
	PrintKeep        time.Duration
}

// setting is one configuration setting.
type setting struct {
	flag  string // the flag, without dashes
	env   string // the environment variable
	def   string // the default, as text
	usage string
	bool  bool // a flag that needs no value
	serve bool // only serve reads it
	set   func(c *config, v string) error
}

// settings lists every setting. docs/operations.md has a table of them;
// a test keeps the two in step.
func settings() []setting {
	return []setting{
		{"database-url", "MARKSMITH_DATABASE_URL", "", "database: postgres://user:pass@host:5432/db?sslmode=disable, or sqlite:PATH; empty means the SQLite file ./marksmith.db", false, false,
			func(c *config, v string) error { c.DatabaseURL = v; return nil }},
		{"migrate", "MARKSMITH_AUTO_MIGRATE", "auto", "apply pending migrations on start: true, false, or auto (true for SQLite, false for Postgres)", true, false,
			func(c *config, v string) error {
				switch strings.ToLower(v) {
				case "auto", "":
					c.AutoMigrate = "auto"
				default:
					b, err := strconv.ParseBool(v)
					if err != nil {
						return errors.New("want true, false or auto")
					}
					c.AutoMigrate = strconv.FormatBool(b)
				}
				return nil
			}},
		{"log-level", "MARKSMITH_LOG_LEVEL", "info", "least severe log level written: debug, info, warn or error", false, false,
			func(c *config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{"log-format", "MARKSMITH_LOG_FORMAT", "text", "log format on stderr: text or json", false, false,
			func(c *config, v string) error {
				if v != "text" && v != "json" {
					return errors.New("want text or json")
				}
				c.LogFormat = v
				return nil
			}},
		{"addr", "MARKSMITH_ADDR", ":8080", "address to listen on, host:port", false, true,
			func(c *config, v string) error { c.Addr = v; return nil }},
		{"shutdown-timeout", "MARKSMITH_SHUTDOWN_TIMEOUT", "15s", "how long a shutdown waits for requests in flight", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.ShutdownTimeout })},
		{"seed-bank", "MARKSMITH_SEED_BANK", "true", "store the built-in question bank on start (new or changed templates become new versions)", true, true,
			boolSetter(func(c *config) *bool { return &c.SeedBank })},
		{"admin-email", "MARKSMITH_ADMIN_EMAIL", "admin@localhost", "email of the admin account created on the first start (when there are no users)", false, true,
			func(c *config, v string) error { c.AdminEmail = v; return nil }},
		{"jwt-secret", "MARKSMITH_JWT_SECRET", "", "HS256 secret for access tokens, at least 32 bytes; prefer the file setting", false, true,
			func(c *config, v string) error { c.JWTSecret = v; return nil }},
		{"jwt-secret-file", "MARKSMITH_JWT_SECRET_FILE", "", "file holding the HS256 secret; with SQLite and no secret set, one is generated beside the database file", false, true,
			func(c *config, v string) error { c.JWTSecretFile = v; return nil }},
		{"jwt-key-file", "MARKSMITH_JWT_KEY_FILE", "", "PEM Ed25519 private key; when set, access tokens are signed with EdDSA instead of HS256", false, true,
			func(c *config, v string) error { c.JWTKeyFile = v; return nil }},
		{"jwt-issuer", "MARKSMITH_JWT_ISSUER", app.DefaultIssuer, "iss claim of access tokens", false, true,
			func(c *config, v string) error { c.JWTIssuer = v; return nil }},
		{"jwt-audience", "MARKSMITH_JWT_AUDIENCE", app.DefaultAudience, "aud claim of access tokens", false, true,
			func(c *config, v string) error { c.JWTAudience = v; return nil }},
		{"access-ttl", "MARKSMITH_ACCESS_TTL", durationText(app.DefaultAccessTTL), "access token lifetime", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.AccessTTL })},
		{"refresh-ttl", "MARKSMITH_REFRESH_TTL", durationText(sessions.DefaultRefreshTTL), "refresh token lifetime", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.RefreshTTL })},
		{"body-limit", "MARKSMITH_BODY_LIMIT", sizeText(api.DefaultBodyLimit), "largest request body in bytes (a suffix K, M or G multiplies by 1024s)", false, true,
			func(c *config, v string) error {
				n, err := parseSize(v)
				c.BodyLimit = n
				return err
			}},
		{"read-timeout", "MARKSMITH_READ_TIMEOUT", durationText(api.DefaultReadTimeout), "longest time to read a request", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.ReadTimeout })},
		{"write-timeout", "MARKSMITH_WRITE_TIMEOUT", durationText(api.DefaultWriteTimeout), "longest time to write a response", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.WriteTimeout })},
		{"idle-timeout", "MARKSMITH_IDLE_TIMEOUT", durationText(api.DefaultIdleTimeout), "how long an idle keep-alive connection stays open", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.IdleTimeout })},
		{"trust-proxy", "MARKSMITH_TRUST_PROXY", "false", "take the client address from X-Forwarded-For (only behind a proxy that sets it)", true, true,
			boolSetter(func(c *config) *bool { return &c.TrustProxy })},
		{"secure-cookies", "MARKSMITH_SECURE_COOKIES", "false", "mark the pages' session cookies Secure on every response: set it when a proxy in front ends HTTPS", true, true,
			boolSetter(func(c *config) *bool { return &c.SecureCookies })},
		{"import-max-rows", "MARKSMITH_IMPORT_MAX_ROWS", strconv.Itoa(users.DefaultImportMaxRows), "most rows one roster import may have", false, true,
			func(c *config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n <= 0 {
					return errors.New("want a positive whole number")
				}
				c.ImportMaxRows = n
				return nil
			}},
		{"template-max-bytes", "MARKSMITH_TEMPLATE_MAX_BYTES", sizeText(bank.DefaultLimits().MaxBytes), "largest template source an upload may have (K, M or G multiply by 1024s); keep it at least what was ever allowed, as stored templates load under it", false, true,
			func(c *config, v string) error {
				n, err := parseSize(v)
				c.TemplateMaxBytes = n
				return err
			}},
		{"print-queue", "MARKSMITH_PRINT_QUEUE", strconv.Itoa(exams.DefaultPrintQueue), "most print jobs waiting, over every instance; one more is refused with 503", false, true,
			func(c *config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n <= 0 || n > 10000 {
					return errors.New("want a whole number from 1 to 10000")
				}
				c.PrintQueue = n
				return nil
			}},
		{"print-keep", "MARKSMITH_PRINT_KEEP", durationText(exams.DefaultPrintKeep), "how long a finished print job and its file are kept", false, true,
			durationSetter(func(c *config) *time.Duration { return &c.PrintKeep })},
	}
}

// durationText writes d without zero trailing units: 15m, 168h, 2m30s.
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func durationSetter(field func(c *config) *time.Duration) func(c *config, v string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("want a duration such as 30s, 15m or 168h")
		}
		if d <= 0 {
			return errors.New("want a positive duration")
		}
		*field(c) = d
		return nil
	}
}

func boolSetter(field func(c *config) *bool) func(c *config, v string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*field(c) = b
		return nil
	}
}

// sizeText writes a byte count the way parseSize reads it: 4M, 512K, 1000.
func sizeText(n int) string {
	switch {
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return strconv.Itoa(n)
}

// parseSize parses a byte count with an optional K, M or G (binary) suffix.
func parseSize(v string) (int, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > (1<<31-1)/mult {
		return 0, errors.New("want a positive size in bytes, such as 4194304 or 4M")
	}
	return n * mult, nil
}

// loadConfig reads the settings of a command from the environment and
// its flags; withServe includes the settings only serve reads. usage
// heads the help text; extra adds a command's own flags. It returns the
// arguments left after the flags.
func loadConfig(name, usage string, args []string, getenv env, stderr io.Writer, withServe bool, extra ...func(fs *flag.FlagSet)) (*config, []string, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	for _, s := range settings() {
		if s.serve && !withServe {
			continue
		}
		if err := s.set(c, s.def); err != nil {
			return nil, nil, fmt.Errorf("default of %s %q: %w", s.env, s.def, err)
		}
		if v := getenv(s.env); v != "" {
			if err := s.set(c, v); err != nil {
				return nil, nil, &exitError{code: 2, err: fmt.Errorf("%s=%q: %w", s.env, v, err)}
			}
		}
		usage := fmt.Sprintf("%s (env %s", s.usage, s.env)
		if s.def != "" {
			usage += ", default " + s.def
		}
		usage += ")"
		set := func(v string) error { return s.set(c, v) }
		if s.bool {
			fs.BoolFunc(s.flag, usage, set)
		} else {
			fs.Func(s.flag, usage, set)
		}
	}
	for _, f := range extra {
		f(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, &exitError{code: 2, err: err}
	}
	return c, fs.Args(), nil
}

// newLogger returns the structured logger the configuration asks for.
func (c *config) newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// migrateOnStart reports whether pending migrations are applied on start
// for the dialect.
func (c *config) migrateOnStart(dialect string) bool {
	if c.AutoMigrate == "auto" {
		return dialect == storage.DialectSQLite
	}
	return c.AutoMigrate == "true"
}

// appConfig returns the server's configuration. The signing key comes
// from, in order: the Ed25519 key file, the secret, the secret file; with
// none set, SQLite keeps a generated secret in a file beside the database
// and Postgres refuses to start (instances must share one secret).
func (c *config) appConfig(dialect string, logger *slog.Logger) (app.Config, error) {
	cfg := app.Config{
		HTTP: api.Config{
			BodyLimit:    c.BodyLimit,
			ReadTimeout:  c.ReadTimeout,
			WriteTimeout: c.WriteTimeout,
			IdleTimeout:  c.IdleTimeout,
			TrustProxy:   c.TrustProxy,
		},
		Web:             web.Config{Secure: c.SecureCookies},
		Issuer:          c.JWTIssuer,
		Audience:        c.JWTAudience,
		AccessTTL:       c.AccessTTL,
		RefreshTTL:      c.RefreshTTL,
		ImportMaxRows:   c.ImportMaxRows,
		ShutdownTimeout: c.ShutdownTimeout,
		TemplateLimits:  bank.Limits{MaxBytes: c.TemplateMaxBytes},
		PrintJobs:       exams.PrintOptions{MaxQueued: c.PrintQueue, Keep: c.PrintKeep},
	}
	switch {
	case c.JWTKeyFile != "":
		pem, err := os.ReadFile(c.JWTKeyFile)
		if err != nil {
			return cfg, fmt.Errorf("JWT key file: %w", err)
		}
		key, err := auth.ParseEd25519PrivateKey(pem)
		if err != nil {
			return cfg, fmt.Errorf("JWT key file %s: %w", c.JWTKeyFile, err)
		}
		cfg.JWTKey = ed25519.PrivateKey(key)
	case c.JWTSecret != "":
		cfg.JWTSecret = []byte(c.JWTSecret)
	case c.JWTSecretFile != "":
		b, err := os.ReadFile(c.JWTSecretFile)
		if err != nil {
			return cfg, fmt.Errorf("JWT secret file: %w", err)
		}
		cfg.JWTSecret = []byte(strings.TrimSpace(string(b)))
	case dialect == storage.DialectSQLite:
		secret, err := generatedSecret(c.DatabaseURL, logger)
		if err != nil {
			return cfg, err
		}
		cfg.JWTSecret = secret
	default:
		return cfg, errors.New("no JWT secret: set MARKSMITH_JWT_SECRET_FILE, MARKSMITH_JWT_SECRET (at least 32 bytes, e.g. `openssl rand -hex 32`) or MARKSMITH_JWT_KEY_FILE; every instance must use the same one")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// generatedSecret returns the JWT secret kept beside the SQLite database
// (PATH.jwt-secret), creating it on first use, so that tokens survive a
// restart without any setup. An in-memory database gets a secret that
// lives as long as the process.
func generatedSecret(dsn string, logger *slog.Logger) ([]byte, error) {
	path := sqlitePath(dsn)
	if path == "" {
		b := make([]byte, 32)
		rand.Read(b)
		logger.Warn("no JWT secret set: using a random one until the process exits")
		return []byte(hex.EncodeToString(b)), nil
	}
	file := path + ".jwt-secret"
	if b, err := os.ReadFile(file); err == nil {
		return []byte(strings.TrimSpace(string(b))), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("JWT secret: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("JWT secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("JWT secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("JWT secret: %w", err)
	}
	logger.Info("generated a JWT secret; keep it with the database", "file", file)
	return []byte(secret), nil
}

// sqlitePath returns the file of a SQLite DSN as storage.Open reads it,
// or "" for an in-memory database.
func sqlitePath(dsn string) string {
	p := dsn
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(p, prefix) {
			p = strings.TrimPrefix(p, prefix)
			break
		}
	}
	p, _, _ = strings.Cut(p, "?")
	switch {
	case p == "":
		return storage.DefaultSQLitePath
	case strings.HasPrefix(p, ":memory:"):
		return ""
	}
	return filepath.Clean(p)
}
