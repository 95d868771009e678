#!/usr/bin/env bash
# Starts the local services Anfang's tests use when they are down (PostgreSQL for the store
# contract suite). Each command is the one the machine image uses; all are idempotent.
set -u
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

# Mosquitto on 127.0.0.1:1883: the MQTT scenarios run against it as an external broker.
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
  for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.5; done
fi
(exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null || { echo "Mosquitto is not reachable on 127.0.0.1:1883" >&2; exit 1; }
