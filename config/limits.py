# The largest value of a PostgreSQL `integer` column (PositiveIntegerField): inputs above it are a 400, not a DataError.
INTEGER_MAX = 2_147_483_647
