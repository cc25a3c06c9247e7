from db import connect
from queries import add_author, add_book, open_loans, titles_by_author


def test_titles_by_author() -> None:
    conn = connect()
    ursula = add_author(conn, "Ursula K. Le Guin", 1929)
    add_book(conn, ursula, "The Dispossessed", 1974)
    add_book(conn, ursula, "A Wizard of Earthsea", 1968)
    assert titles_by_author(conn, "Ursula K. Le Guin") == [
        "A Wizard of Earthsea",
        "The Dispossessed",
    ]
    assert titles_by_author(conn, "Nobody") == []


def test_open_loans() -> None:
    conn = connect()
    book = add_book(conn, add_author(conn, "Octavia Butler", 1947), "Kindred", 1979)
    conn.execute(
        "INSERT INTO loans (book_id, borrower_email, loaned_on) VALUES (?, ?, ?)",
        (book, "ada@example.org", "2024-01-02"),
    )
    assert open_loans(conn) == [("ada@example.org", "Kindred")]
