// Package e2e holds the browser tests of Marksmith's pages: headless
// Chromium, driven with chromedp, against the whole server (app.New and
// Run, as `marksmith serve` runs it) on a PostgreSQL schema of its own.
//
// Without Chromium or PostgreSQL the tests skip; with CI=true they fail
// instead. MARKSMITH_SCREENSHOTS=DIR saves a PNG of every page a test
// visits into DIR.
package e2e
