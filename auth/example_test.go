package auth_test

import (
	"fmt"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

func ExampleTokens() {
	now := time.Date(2026, 5, 19, 9, 0, 0, 0, time.UTC)
	tokens, err := auth.NewHS256([]byte("a secret of at least thirty-two bytes!"), auth.TokenConfig{
		Issuer: "marksmith", Audience: "marksmith-api", TTL: 15 * time.Minute,
		Now: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	token, _, err := tokens.Issue(42, marksmith.RoleStudent)
	if err != nil {
		panic(err)
	}
	claims, err := tokens.Verify(token)
	if err != nil {
		panic(err)
	}
	id, _ := claims.UserID()
	fmt.Println(tokens.Algorithm(), id, claims.Role, claims.ExpiresAt.UTC().Format(time.TimeOnly))
	_, err = tokens.Verify(token + "x")
	fmt.Println(err != nil)
	// Output:
	// HS256 42 student 09:15:00
	// true
}

func ExampleHashPassword() {
	hash, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	ok, _ := auth.CheckPassword("correct horse battery staple", hash)
	bad, _ := auth.CheckPassword("Tr0ub4dor&3", hash)
	fmt.Println(ok, bad)
	// Output: true false
}
