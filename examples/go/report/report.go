// Package report prints word statistics.
package report

import (
	"fmt"

	"example.com/wordfreq"
)

// Line describes text in one line.
func Line(text string) string {
	return fmt.Sprintf("%d distinct words, top count %d", len(wordfreq.Count(text)), wordfreq.Top(text))
}
