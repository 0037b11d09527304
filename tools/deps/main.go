package main

import (
	_ "github.com/alexedwards/argon2id"
	_ "github.com/chromedp/chromedp"
	_ "github.com/expr-lang/expr"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/glebarez/sqlite"
	_ "github.com/goccy/go-yaml"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/schollz/progressbar/v3"
	_ "golang.org/x/term"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
)

func main() {}
