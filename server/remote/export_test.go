package remote

// PinFirst makes the first server of s's URL its current one.
func PinFirst(s *Store) { s.current.Store(s.eps[0]) }
