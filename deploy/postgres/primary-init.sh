#!/bin/sh
# Run once by the official postgres image, when the primary's data folder is first made
# (/docker-entrypoint-initdb.d): the role the replica streams with, and the line of pg_hba.conf
# that lets it connect. wal_level (replica) and max_wal_senders (10) are PostgreSQL's defaults.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
