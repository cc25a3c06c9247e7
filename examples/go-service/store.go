// Package notes stores notes in a SQL database (schema.sql) through database/sql.
package notes

import (
	"context"
	"database/sql"
)

// Note is one row of the notes table.
type Note struct {
	ID       int64
	OwnerID  int64
	Headline string
	Body     string
	Pinned   bool
}

// Store runs the service's queries.
type Store struct {
	db *sql.DB
}

// NewStore wraps an open database.
func NewStore(db *sql.DB) *Store {
	return &Store{db: db}
}

// CreateUser inserts a user and returns the new id.
func (s *Store) CreateUser(ctx context.Context, email string) (int64, error) {
	result, err := s.db.ExecContext(ctx, "INSERT INTO users (email) VALUES (?)", email)
	if err != nil {
		return 0, err
	}
	return result.LastInsertId()
}

// PinnedNotes returns the pinned notes of one user.
func (s *Store) PinnedNotes(ctx context.Context, ownerID int64) ([]Note, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT id, owner_id, headline, body, pinned FROM notes WHERE owner_id = ? AND pinned",
		ownerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var notes []Note
	for rows.Next() {
		var note Note
		if err := rows.Scan(&note.ID, &note.OwnerID, &note.Headline, &note.Body, &note.Pinned); err != nil {
			return nil, err
		}
		notes = append(notes, note)
	}
	return notes, rows.Err()
}
