// Package testenv lets tests ask for what they need from the machine: a
// test whose program is missing fails under CI=true, where everything it
// needs is installed, and skips with a message saying why on a
// developer's laptop.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Need fails the test under CI=true and skips it otherwise, saying why.
func Need(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Tools needs each program on the PATH; install says how to get them.
func Tools(t testing.TB, install string, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			Need(t, "no %s: %s", p, install)
		}
	}
}
