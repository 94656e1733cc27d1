"""Analytics's HTTP routes: parse, call one use case or one query, map the result."""
