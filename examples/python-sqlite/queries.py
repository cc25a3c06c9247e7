"""Queries over the library database (see db.py for the schema)."""

import sqlite3


def add_author(conn: sqlite3.Connection, full_name: str, birth_year: int | None) -> int:
    """Insert an author and return the new id."""
    cursor = conn.execute(
        "INSERT INTO authors (full_name, birth_year) VALUES (?, ?)", (full_name, birth_year)
    )
    return int(cursor.lastrowid)


def add_book(conn: sqlite3.Connection, author_id: int, title: str, year: int) -> int:
    """Insert a book and return the new id."""
    cursor = conn.execute(
        "INSERT INTO books (author_id, title, published_year) VALUES (?, ?, ?)",
        (author_id, title, year),
    )
    return int(cursor.lastrowid)


def titles_by_author(conn: sqlite3.Connection, full_name: str) -> list[str]:
    """Titles of the books written by the author with this name, oldest first."""
    rows = conn.execute(
        "SELECT books.title FROM books JOIN authors ON authors.id = books.author_id "
        "WHERE authors.full_name = ? ORDER BY books.published_year",
        (full_name,),
    ).fetchall()
    return [title for (title,) in rows]


def open_loans(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(borrower email, book title) for every loan not returned yet."""
    rows = conn.execute(
        "SELECT loans.borrower_email, books.title FROM loans "
        "JOIN books ON books.id = loans.book_id WHERE loans.returned_on IS NULL"
    ).fetchall()
    return [(email, title) for email, title in rows]
