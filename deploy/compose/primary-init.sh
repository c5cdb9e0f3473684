#!/bin/sh
# Run once by the postgres image when it creates the database: let the optional replica (the `replica`
# profile of docker-compose.yml) stream WAL as the app's user, with its password.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
