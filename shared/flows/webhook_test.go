package flows

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A failed delivery says what went wrong without the endpoint's URL, which
// may carry the caller's token: the error is logged and kept.
func TestPostErrorsNameNoURL(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/hook?token=secret-token"
	down.Close()

	client := &http.Client{Timeout: 50 * time.Millisecond}
	for _, c := range []struct{ name, url, want string }{
		{"timeout", slow.URL + "/hook?token=secret-token", "network error: timed out"},
		{"refused", downURL, "network error"},
		{"bad URL", "http://[::1/hook?token=secret-token", "the endpoint URL is not usable"},
	} {
		_, err := post(context.Background(), client, c.url, []byte("k"), "evt_1", []byte("{}"), time.Now())
		if err == nil || err.Error() != c.want || strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
