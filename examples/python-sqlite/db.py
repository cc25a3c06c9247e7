"""The library database: its schema and a connection helper (sqlite3)."""

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS authors (
    id INTEGER PRIMARY KEY,
    full_name TEXT NOT NULL,
    birth_year INTEGER
);

CREATE TABLE IF NOT EXISTS books (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    title TEXT NOT NULL,
    published_year INTEGER,
    isbn TEXT UNIQUE
);

CREATE TABLE IF NOT EXISTS loans (
    id INTEGER PRIMARY KEY,
    book_id INTEGER NOT NULL REFERENCES books (id),
    borrower_email TEXT NOT NULL,
    loaned_on TEXT NOT NULL,
    returned_on TEXT
);
"""


def connect(path: str = ":memory:") -> sqlite3.Connection:
    """Open the database and create the tables if needed."""
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    return connection
