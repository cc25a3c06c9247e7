package wordfreq

// Top returns the count of the most frequent word in text.
func Top(text string) int {
	best := 0
	for _, n := range Count(text) {
		if n > best {
			best = n
		}
	}
	return best
}
