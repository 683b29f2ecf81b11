package api

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes statuses as the terminal table of `sluice status`,
// followed by the error of each failing connector.
func WriteTable(w io.Writer, sts []ConnectorStatus, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tSTATE\tPHASE\tEVENTS\tEVENTS/S\tLAG\tPOSITION\tSNAPSHOT\tRESTARTS\tLAST EVENT")
	for _, st := range sts {
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%d\t%s\n",
			st.Name, st.Type, st.ConnectorType, st.Connector.State, dash(st.Phase), st.Events, st.EventsPerSecond,
			lagText(st.Lag), positionText(st.Position), snapshotText(st.Snapshot), st.Restarts, ago(st.LastEventTime, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, st := range sts {
		trace := st.Connector.Trace
		for _, t := range st.Tasks {
			if trace == "" {
				trace = t.Trace
			}
		}
		if trace != "" {
			retry := ""
			if !st.NextRetry.IsZero() {
				retry = fmt.Sprintf(" (next retry in %s)", st.NextRetry.Sub(now).Round(time.Second))
			}
			fmt.Fprintf(w, "\n%s %s%s:\n  %s\n", st.Name, st.Connector.State, retry, strings.ReplaceAll(trace, "\n", "\n  "))
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lagText(l *Lag) string {
	if l == nil {
		return "-"
	}
	var parts []string
	if l.Ms != nil {
		parts = append(parts, (time.Duration(*l.Ms) * time.Millisecond).String())
	}
	if l.Bytes != nil {
		parts = append(parts, bytesText(*l.Bytes))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func positionText(p map[string]any) string {
	if len(p) == 0 {
		return "-"
	}
	if v, ok := p["commit_lsn"]; ok {
		return fmt.Sprint(v)
	}
	if f, ok := p["file"]; ok {
		return fmt.Sprintf("%v:%v", f, p["pos"])
	}
	if o, ok := p["offsets"].(map[string]any); ok {
		n := 0
		for _, ps := range o {
			if m, ok := ps.(map[string]any); ok {
				n += len(m)
			}
		}
		return fmt.Sprintf("%d partitions", n)
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Sprintf("%s=%v", keys[0], p[keys[0]])
}

func snapshotText(s map[string]TableProgress) string {
	if len(s) == 0 {
		return "-"
	}
	var rows, est int64
	done := 0
	for _, p := range s {
		rows += p.Rows
		est += max(p.Estimated, p.Rows)
		if p.Done {
			done++
		}
	}
	if done == len(s) {
		return fmt.Sprintf("done (%d rows)", rows)
	}
	pct := ""
	if est > 0 {
		pct = fmt.Sprintf(" %.0f%%", 100*float64(rows)/float64(est))
	}
	return fmt.Sprintf("%d/%d tables%s", done, len(s), pct)
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}
