package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Client calls a sluice REST API.
type Client struct {
	// BaseURL is like http://127.0.0.1:8083.
	BaseURL string
	// Token is sent as a bearer token when not empty.
	Token string
	HTTP  *http.Client
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("api request %s %s: %w", method, path, err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("api request %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("api request %s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e Error
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return &e
		}
		return &Error{ErrorCode: resp.StatusCode, Message: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("api request %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// Statuses returns every connector's status, sorted by name.
func (c *Client) Statuses(ctx context.Context) ([]ConnectorStatus, error) {
	var m map[string]struct {
		Status ConnectorStatus `json:"status"`
	}
	if err := c.do(ctx, http.MethodGet, "/connectors?expand=status", &m); err != nil {
		return nil, err
	}
	out := make([]ConnectorStatus, 0, len(m))
	for _, v := range m {
		out = append(out, v.Status)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Status returns one connector's status.
func (c *Client) Status(ctx context.Context, name string) (ConnectorStatus, error) {
	var st ConnectorStatus
	err := c.do(ctx, http.MethodGet, "/connectors/"+name+"/status", &st)
	return st, err
}

// Control posts pause, resume or restart for a connector.
func (c *Client) Control(ctx context.Context, name, action string) error {
	return c.do(ctx, http.MethodPost, "/connectors/"+name+"/"+action, nil)
}
