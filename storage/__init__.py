"""Storage: SQLAlchemy Core tables, Alembic migrations and the repositories, the only code that writes SQL.

Open a ``Store`` with a database URL, then ``async with store.begin() as repos:`` to work in one transaction.
"""

from storage.database import Repos, Store

__all__ = ["Repos", "Store"]
