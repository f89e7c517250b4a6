import os
from typing import Any

from django.db.backends.sqlite3.creation import DatabaseCreation as SQLiteDatabaseCreation


class DatabaseCreation(SQLiteDatabaseCreation):
    def _destroy_test_db(self, test_database_name: Any, verbosity: int) -> None:
        """Removes the writer lock file (base.py) beside a test database too."""
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]
        if test_database_name and not self.is_in_memory_db(test_database_name):
            try:
                os.remove(f"{test_database_name}-writer.lock")
            except FileNotFoundError:
                pass
