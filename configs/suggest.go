package configs

import (
	"sort"
	"strings"
)

// suggest returns the candidate closest to word, or "" when none is close
// enough to be a likely typo.
func suggest(word string, candidates []string) string {
	if word == "" || len(candidates) == 0 {
		return ""
	}
	cands := append([]string(nil), candidates...)
	sort.Strings(cands)
	// Same word up to case and separators: topicPrefix, heartbeat_interval.
	nw := normalizeKey(word)
	for _, c := range cands {
		if normalizeKey(c) == nw {
			return c
		}
	}
	lw := strings.ToLower(word)
	best, bestD := "", -1
	for _, c := range cands {
		d := osaDistance(lw, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD >= 0 && bestD <= maxTypoDistance(len([]rune(word))) && bestD < len([]rune(best)) {
		return best
	}
	// A prefix of exactly one dotted key: "tombstones" -> "tombstones.on.delete".
	var only string
	for _, c := range cands {
		if strings.HasPrefix(c, word+".") || strings.HasPrefix(c, word+"_") {
			if only != "" {
				return ""
			}
			only = c
		}
	}
	return only
}

func maxTypoDistance(n int) int {
	switch {
	case n <= 3:
		return 1
	case n <= 8:
		return 2
	default:
		return 3
	}
}

func normalizeKey(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '.', '-', ' ':
			return -1
		}
		return r
	}, s)
}

// osaDistance is the optimal-string-alignment (restricted Damerau-
// Levenshtein) distance: insertions, deletions, substitutions and
// transpositions of adjacent characters each cost 1.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n, m := len(ra), len(rb)
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
		d[i][0] = i
	}
	for j := 0; j <= m; j++ {
		d[0][j] = j
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[n][m]
}

// didYouMean formats a suggestion suffix, or "".
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return " (did you mean " + quoteValue(s) + "?)"
}

// Suggest returns the candidate closest to word when word is a likely typo
// of it, or "". Packages that validate free-form options (transforms) use
// it to say "did you mean ...".
func Suggest(word string, candidates []string) string { return suggest(word, candidates) }
