// Package wordfreq counts words; used by the copilot-lsp demo.
package wordfreq

import "strings"

// Count returns how often each lower-cased word occurs in text.
func Count(text string) map[string]int {
	counts := make(map[string]int)
	for _, word := range strings.Fields(text) {
		counts[strings.ToLower(word)]++
	}
	return counts
}
