-- Nothing reads SETs by txn since the status resource names its SETs by jti (txn_ops.sets);
-- the index only cost every stored SET an index insert.
DROP INDEX "events_txn";