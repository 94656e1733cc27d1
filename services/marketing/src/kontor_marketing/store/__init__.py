"""Marketing's database: repositories, unit of work, queries, indexes."""
