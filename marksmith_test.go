package marksmith

import "testing"

func TestHTTPStatus(t *testing.T) {
	for code, want := range map[string]int{EINVALID: 400, EUNAUTHORIZED: 401, EFORBIDDEN: 403, ENOTFOUND: 404, ECONFLICT: 409,
		EGONE: 410, ETOOLARGE: 413, EUNPROCESSABLE: 422, ERATELIMIT: 429, EUNAVAILABLE: 503, EINTERNAL: 500, "no such code": 500} {
		if got := HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", code, got, want)
		}
	}
}
