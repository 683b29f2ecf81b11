package elasticsearch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// client sends requests to the nodes round-robin.
type client struct {
	nodes []*url.URL
	next  atomic.Uint32
	hc    *http.Client
	auth  string // Authorization header value, or ""
}

func newClient(o *Options, log *slog.Logger) (*client, error) {
	c := &client{}
	var urlUser, urlPass string
	for _, raw := range o.URLs {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil {
			return nil, fmt.Errorf("elasticsearch sink: url %q: %w", redactURL(raw), err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("elasticsearch sink: url %q: scheme must be http or https", redactURL(raw))
		}
		if u.User != nil {
			urlUser = u.User.Username()
			urlPass, _ = u.User.Password()
			u.User = nil
		}
		c.nodes = append(c.nodes, u)
	}
	if len(c.nodes) == 0 {
		return nil, errors.New("elasticsearch sink: no urls")
	}
	switch {
	case o.APIKey != "":
		c.auth = "ApiKey " + o.APIKey
	case o.Username != "":
		c.auth = basic(o.Username, o.Password)
	case urlUser != "":
		c.auth = basic(urlUser, urlPass)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.TLS.InsecureSkipVerify} //nolint:gosec // opt-in, warned about
	if o.TLS.InsecureSkipVerify {
		log.Warn("elasticsearch sink: TLS certificate verification is disabled (tls.insecure_skip_verify)")
	}
	if o.TLS.CAFile != "" {
		pem, err := os.ReadFile(o.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch sink: read tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("elasticsearch sink: tls.ca_file %s: no PEM certificates", o.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	if o.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.TLS.CertFile, o.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch sink: load tls.cert_file/tls.key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = max(o.Concurrency, 2)
	tr.ResponseHeaderTimeout = o.RequestTimeout
	c.hc = &http.Client{Transport: tr}
	return c, nil
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// response is a read response.
type response struct {
	status     int
	header     http.Header
	body       []byte
	node       string
	retryAfter time.Duration // from Retry-After; 0 when absent
}

// do sends one request to the next node. A transport failure is an error;
// any HTTP status is a response.
func (c *client) do(ctx context.Context, method, path string, body []byte, contentType string) (*response, error) {
	node := c.nodes[int(c.next.Add(1)-1)%len(c.nodes)]
	u := *node
	p, q, _ := strings.Cut(path, "?")
	u.Path = strings.TrimRight(u.Path, "/") + p
	u.RawQuery = q
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w", method, path, node.Host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %s: read response: %w", method, path, node.Host, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, node: node.Host, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}, nil
}

// parseRetryAfter reads delay-seconds or an HTTP-date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// errorBody is Elasticsearch's error response.
type errorBody struct {
	Error  json.RawMessage `json:"error"`
	Status int             `json:"status"`
}

// describe summarises a failed response: the error type and reason when
// the body is an Elasticsearch error, else the start of the body.
func (r *response) describe() string {
	var eb errorBody
	if json.Unmarshal(r.body, &eb) == nil && len(eb.Error) > 0 {
		var e struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(eb.Error, &e) == nil && e.Type != "" {
			return fmt.Sprintf("%d %s: %s", r.status, e.Type, e.Reason)
		}
		return fmt.Sprintf("%d %s", r.status, eb.Error)
	}
	b := r.body
	if len(b) > 200 {
		b = b[:200]
	}
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(string(b)))
}

// permanentTransport reports a transport error that retrying cannot fix:
// the server's certificate is not trusted.
func permanentTransport(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	return err != nil && (errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn))
}

// transient reports whether a request-level status is worth retrying.
func transient(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// backoff is exponential backoff with equal jitter (half fixed, half
// random), and at least the server's Retry-After.
type backoff struct {
	base, max time.Duration
	attempt   int
}

func (b *backoff) next(retryAfter time.Duration) time.Duration {
	d := b.base << min(b.attempt, 20)
	if d > b.max || d <= 0 {
		d = b.max
	}
	b.attempt++
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	return max(d, retryAfter)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
